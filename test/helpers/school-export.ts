/**
 * A class list as a school system exports it, for the tests and the classroom bench: `First
 * name,Last name`, CRLF line ends, accents, two Zoës, and a pair of namesakes (the last two rows).
 */
export const SCHOOL_EXPORT = [
  'First name,Last name',
  ...['Amélie,Poulain', 'Léa,Durand', 'Chloé,Lefèvre', 'Maëlys,Girard', 'Jérôme,Bonnet', 'François,Mercier', 'Jürgen,Groß', 'Inès,Núñez'],
  ...['Siobhán,O’Brien', 'Åsa,Ødegaard', 'Hugo,Lambert', 'Lucas,Fontaine', 'Emma,Rousseau', 'Gabriel,Vincent', 'Louise,Muller', 'Arthur,Lefebvre'],
  ...['Jade,Faure', 'Raphaël,André', 'Mila,Mercier', 'Louis,Blanc', 'Alice,Guérin', 'Jules,Boyer', 'Rose,Garnier', 'Adam,Chevalier'],
  ...['Lina,François', 'Paul,Legrand', 'Zoë,Martin', 'Zoë,Dubois', 'Noah,Petit', 'Noah,Petit'],
].join('\r\n');

/** The export as Excel on Windows saves it: in the Windows code page, not UTF-8 (’ is 0x92 there). */
export function windows1252(text: string): Buffer {
  return Buffer.from(text.replaceAll('’', '\x92'), 'latin1');
}
