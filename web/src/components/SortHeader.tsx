import './components.css';

/**
 * A column header that sorts the list: `sort` is the API's sort value ("last_name" or
 * "-last_name"); the header tells assistive technology the order with aria-sort and shows
 * it with an arrow, not colour.
 */
export function SortHeader({
  label,
  column,
  sort,
  onSort,
  className,
}: {
  label: string;
  column: string;
  sort: string;
  onSort(sort: string): void;
  className?: string;
}) {
  const descending = sort === `-${column}`;
  const active = descending || sort === column;
  const order = active ? (descending ? 'descending' : 'ascending') : 'none';
  return (
    <th scope="col" aria-sort={order} className={className}>
      <button
        type="button"
        className="sort-button"
        onClick={() => onSort(active && !descending ? `-${column}` : column)}
      >
        {label}
        <span aria-hidden="true" className="sort-arrow">
          {active ? (descending ? ' ▼' : ' ▲') : ' ↕'}
        </span>
      </button>
    </th>
  );
}
