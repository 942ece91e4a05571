/** Plain-text table with right-aligned numeric columns, for terminal output. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Seven significant digits: what an f32 result carries. */
export function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(7);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
