/** Plain-text table with right-aligned numeric columns, for terminal output. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  return [...tableHead(header, widths), ...rows.map((row) => formatRow(row, widths))].join('\n');
}

/** The header line and its underline, for a table printed row by row with {@link formatRow}. */
export function tableHead(header: readonly string[], widths: readonly number[]): string[] {
  return [
    formatRow(header, widths),
    formatRow(
      widths.map((width) => '-'.repeat(width)),
      widths,
    ),
  ];
}

/** One line of a table: the first column left-aligned, the others right-aligned. */
export function formatRow(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
    .join('  ');
}

/** Seven significant digits: what an f32 result carries. */
export function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(7);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
