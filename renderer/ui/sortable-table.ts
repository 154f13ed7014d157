/**
 * Column headers that sort a table: a button in each sortable header, with `aria-sort` telling
 * screen readers which column orders the rows and which way.
 */
import { h } from '../dom.js';

export interface Column<T> {
  key: string;
  label: string;
  /** Absent for columns that do not sort (actions). */
  sortValue?: (row: T) => string | number;
  /** Visually hidden header text (the select-all box has its own label). */
  hiddenLabel?: boolean;
}

export interface SortOrder {
  key: string;
  ascending: boolean;
}

export function sortRows<T>(rows: T[], columns: Column<T>[], order: SortOrder): T[] {
  const value = columns.find((column) => column.key === order.key)?.sortValue;
  if (!value) return rows;
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  const sign = order.ascending ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return sign * (typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y)));
  });
}

/** The `<thead>`; clicking a header sorts by it, again reverses. `extra` fills headers without a label. */
export function sortableHead<T>(
  columns: Column<T>[],
  order: SortOrder,
  onSort: (order: SortOrder) => void,
  extra: Partial<Record<string, HTMLElement>> = {},
): HTMLTableSectionElement {
  return h(
    'thead',
    null,
    h(
      'tr',
      null,
      columns.map((column) => {
        const sorted = column.key === order.key;
        const th = h('th', { scope: 'col', class: `col-${column.key}` });
        if (sorted) th.setAttribute('aria-sort', order.ascending ? 'ascending' : 'descending');
        if (extra[column.key]) {
          th.append(extra[column.key] as HTMLElement);
        } else if (column.sortValue) {
          th.append(
            h(
              'button',
              {
                type: 'button',
                class: ['sort', sorted && (order.ascending ? 'sort-up' : 'sort-down')],
                onclick: () => onSort({ key: column.key, ascending: sorted ? !order.ascending : true }),
              },
              column.label,
            ),
          );
        } else {
          th.append(column.hiddenLabel ? h('span', { class: 'visually-hidden' }, column.label) : column.label);
        }
        return th;
      }),
    ),
  );
}
