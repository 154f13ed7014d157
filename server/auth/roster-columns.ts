/**
 * What each column of a class list holds, read from its header the way a school system writes it
 * (`First name,Last name`, `Nom;Prénom`, `Vorname;Nachname;Klasse`, `Email`…) in English and the
 * common European languages. When the guess is wrong the teacher picks the columns in the preview,
 * and the same names go back in the request.
 */
import { withoutAccents } from './login-names.js';

/** More columns than any school export has: past this, the file is not a class list. */
export const MAX_ROSTER_COLUMNS = 100;

export const ROSTER_COLUMNS = ['login', 'fullName', 'firstName', 'lastName', 'email', 'studentId', 'group', 'password'] as const;
/** What a column holds; null for a column left out. */
export type RosterColumn = (typeof ROSTER_COLUMNS)[number];

/** How a file's column is read: its header (or "Column 3") and what it holds. */
export interface ColumnChoice {
  label: string;
  column: RosterColumn | null;
}

/**
 * Header words, lower-cased, accents off, with spaces and punctuation removed. "Name" alone is
 * not here: it means a full name, a login or a surname depending on its neighbours (see readHeader).
 */
const HEADER_WORDS: Readonly<Record<RosterColumn, readonly string[]>> = {
  login: [
    'username', 'user', 'login', 'loginname', 'loginid', 'account', 'accountname',
    'benutzer', 'benutzername', 'anmeldename', 'identifiant', 'nomdutilisateur', 'utilisateur', 'usuario', 'nombredeusuario',
    'utente', 'nomeutente', 'gebruikersnaam', 'gebruiker', 'nomedeusuario', 'uzytkownik', 'anvandarnamn', 'brukernavn',
  ],
  fullName: [
    'fullname', 'displayname', 'studentname', 'pupilname', 'student', 'pupil', 'learner', 'learnername',
    'nomcomplet', 'prenometnom', 'nometprenom', 'eleve', 'etudiant', 'vollstandigername', 'vollername', 'schuler', 'schueler',
    'nombrecompleto', 'alumno', 'alumna', 'estudiante', 'nomecompleto', 'aluno', 'alunno', 'studente', 'volledigenaam', 'leerling',
    'imieinazwisko', 'uczen', 'fulltnamn', 'elev',
  ],
  firstName: [
    'firstname', 'first', 'givenname', 'given', 'forename', 'forenames', 'preferredname',
    'prenom', 'vorname', 'rufname', 'nombrepila', 'primernombre', 'primeironome', 'voornaam', 'roepnaam', 'imie',
    'fornamn', 'fornavn', 'etunimi',
  ],
  lastName: [
    'lastname', 'last', 'familyname', 'family', 'surname', 'nomdefamille', 'nachname', 'familienname', 'zuname',
    'apellido', 'apellidos', 'primerapellido', 'cognome', 'sobrenome', 'apelido', 'ultimonome', 'achternaam', 'familienaam',
    'nazwisko', 'efternamn', 'etternavn', 'sukunimi',
  ],
  email: [
    'email', 'mail', 'emailaddress', 'studentemail', 'schoolemail', 'courriel', 'adressemail', 'adresseemail', 'adressecourriel',
    'emailadresse', 'correo', 'correoelectronico', 'posta', 'postaelettronica', 'indirizzoemail', 'emailadres', 'adresemail',
  ],
  studentId: [
    'id', 'studentid', 'studentnumber', 'pupilid', 'pupilnumber', 'upn', 'candidatenumber', 'admissionnumber', 'rollnumber', 'rollno',
    'matricule', 'numero', 'numeroeleve', 'numeroetudiant', 'ine', 'schulernummer', 'schuelernummer', 'schulerid', 'matrikelnummer',
    'matricula', 'numerodematricula', 'idalumno', 'numeroalumno', 'leerlingnummer', 'studentnummer', 'numeroaluno', 'numeromatricola',
    'elevnummer',
  ],
  group: [
    'group', 'class', 'classname', 'section', 'form', 'formgroup', 'homeroom', 'tutorgroup', 'registrationgroup', 'cohort', 'course',
    'classe', 'groupe', 'cours', 'klasse', 'gruppe', 'kurs', 'lerngruppe', 'clase', 'grupo', 'curso', 'turma', 'gruppo', 'corso', 'sezione',
    'klas', 'groep', 'klasa', 'grupa', 'klass', 'grupp',
  ],
  password: ['password', 'passwd', 'pwd', 'passwort', 'kennwort', 'motdepasse', 'contrasena', 'clave', 'senha', 'wachtwoord', 'haslo', 'losenord', 'passord'],
};

/** "Name" in a header: a surname beside a first name, a first name beside a surname, else a full name or a login. */
const NAME_WORDS: ReadonlySet<string> = new Set(['name', 'names', 'nom', 'naam', 'nombre', 'nome', 'navn', 'namn', 'nimi']);

const COLUMN_OF_WORD = new Map<string, RosterColumn>(
  ROSTER_COLUMNS.flatMap((column) => HEADER_WORDS[column].map((word) => [word, column] as const)),
);

/** A header cell as looked up: `E-Mail` → `email`, `Prénom` → `prenom`, `Student ID` → `studentid`. */
function headerWord(cell: string): string {
  return withoutAccents(cell).replace(/[^\p{L}\p{N}]+/gu, '');
}

/**
 * The columns a first row names, if it is a header: it must name at least one column a student's
 * login can come from. A column named twice is read from its first place only.
 */
export function readHeader(cells: string[]): ColumnChoice[] | undefined {
  const words = cells.map(headerWord);
  const known = words.map((word) => COLUMN_OF_WORD.get(word));
  const has = (column: RosterColumn) => known.includes(column);
  const nameMeans = (): RosterColumn => {
    if (has('firstName') && !has('lastName')) return 'lastName'; // Name;Vorname
    if (has('lastName') && !has('firstName')) return 'firstName'; // Nombre;Apellidos
    if (has('fullName')) return 'login'; // name,display name (Lectern's own order)
    return 'fullName';
  };
  const seen = new Set<RosterColumn>();
  const columns = cells.map((label, index): ColumnChoice => {
    const word = words[index] as string;
    const column = NAME_WORDS.has(word) ? nameMeans() : known[index];
    if (!column || seen.has(column)) return { label, column: null };
    seen.add(column);
    return { label, column };
  });
  return columns.some(({ column }) => column !== null && LOGIN_SOURCES.includes(column)) ? columns : undefined;
}

/** The columns a student's login can be made from, the first one present winning. */
export const LOGIN_SOURCES: readonly RosterColumn[] = ['login', 'email', 'firstName', 'lastName', 'fullName', 'studentId'];

/**
 * The columns of a list without a header: one column is a list of names (`Zoë Martin` or `zoe`);
 * more are Lectern's own order, login name, display name, password, class.
 */
export function positionalColumns(width: number): ColumnChoice[] {
  const order: RosterColumn[] = width <= 1 ? ['fullName'] : ['login', 'fullName', 'password', 'group'];
  return Array.from({ length: width }, (_, index) => ({ label: `Column ${index + 1}`, column: order[index] ?? null }));
}
