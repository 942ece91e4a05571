/**
 * WGSL has no include directive, so the kernels share their helpers through one small step:
 * a line `// #include "lib/NAME.wgsl"` in a kernel is replaced by that library file (once per
 * kernel, however often it is named, libraries may include libraries). The directive is a WGSL
 * comment, so every kernel file still reads, and lints, as WGSL; the composed source keeps a
 * line map so compiler messages point at `file.wgsl:line` of the file that holds the line.
 */

const INCLUDE = /^\s*\/\/\s*#include\s+"([^"]+)"\s*$/;

/** Where a line of a composed shader came from. */
export interface SourceLine {
  readonly file: string;
  readonly line: number;
}

export interface ComposedShader {
  readonly code: string;
  /** One entry per line of `code`. */
  readonly lines: readonly SourceLine[];
}

/**
 * Expands the include lines of `source` (named `file` in messages) from `libraries`, keyed by
 * the path written in the directive. Throws on an unknown library.
 */
export function composeShader(
  file: string,
  source: string,
  libraries: Readonly<Record<string, string>>,
): ComposedShader {
  const out: string[] = [];
  const lines: SourceLine[] = [];
  const seen = new Set<string>();
  const expand = (name: string, text: string): void => {
    text.split('\n').forEach((line, index) => {
      const include = INCLUDE.exec(line);
      if (!include) {
        out.push(line);
        lines.push({ file: name, line: index + 1 });
        return;
      }
      const path = include[1];
      const library = libraries[path];
      if (library === undefined) throw new Error(`${name}:${index + 1}: unknown WGSL include "${path}"`);
      if (seen.has(path)) return;
      seen.add(path);
      expand(path, library);
    });
  };
  expand(file, source);
  return { code: out.join('\n'), lines };
}

/** `file.wgsl:line` of a composed line (1-based), for compiler messages. */
export function sourceLocation(shader: ComposedShader, composedLine: number): string {
  const origin = shader.lines[composedLine - 1];
  return origin ? `${origin.file}:${origin.line}` : `line ${composedLine}`;
}
