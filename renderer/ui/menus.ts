/**
 * Row menus are `<details class="menu">`: native, keyboard-operable disclosure. What `<details>`
 * does not do by itself a menu should: close when the teacher clicks elsewhere or presses Esc.
 */
export function closeMenusWhenDone(root: Document): void {
  root.addEventListener('click', (event) => {
    for (const menu of root.querySelectorAll<HTMLDetailsElement>('details.menu[open]')) {
      if (!menu.contains(event.target as Node)) menu.open = false;
    }
  });
  root.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    const menu = (event.target as Element | null)?.closest?.('details.menu[open]');
    if (menu instanceof HTMLDetailsElement) {
      menu.open = false;
      menu.querySelector('summary')?.focus();
    }
  });
}
