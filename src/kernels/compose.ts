/**
 * WGSL has no include directive, so the kernels share their helpers through one small step:
 * a line `// #include "lib/NAME.wgsl"` in a kernel is replaced by that library file (once per
 * kernel, however often it is named, libraries may include libraries). The directive is a WGSL
 * comment, so a kernel file is WGSL syntax an editor highlights; it compiles only composed, since
 * the uniform block and WORKGROUP_SIZE it uses come from its libraries. An `enable` directive
 * (`enable f16;`, `enable subgroups;`) moves to the top of the composed source, where WGSL wants
 * it, so a library that needs an extension says so itself. The composed source keeps a line map
 * so compiler messages point at `file.wgsl:line` of the file that holds the line.
 */

const INCLUDE = /^\s*\/\/\s*#include\s+"([^"]+)"\s*$/;
const ENABLE = /^\s*enable\s+[\w\s,]+;\s*$/;

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

/** A library composed in place of an include: its text, or its text and the file it came from (a variant's swap). */
export type IncludedLibrary = string | { readonly file: string; readonly source: string };

/**
 * Expands the include lines of `source` (named `file` in messages) from `libraries`, keyed by
 * the path written in the directive. Throws on an unknown library.
 */
export function composeShader(
  file: string,
  source: string,
  libraries: Readonly<Record<string, IncludedLibrary>>,
): ComposedShader {
  const out: string[] = [];
  const lines: SourceLine[] = [];
  const directives: string[] = [];
  const directiveLines: SourceLine[] = [];
  const seen = new Set<string>();
  const expand = (name: string, text: string): void => {
    text.split('\n').forEach((line, index) => {
      if (ENABLE.test(line)) {
        if (!directives.includes(line.trim())) {
          directives.push(line.trim());
          directiveLines.push({ file: name, line: index + 1 });
        }
        return;
      }
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
      if (typeof library === 'string') expand(path, library);
      else expand(library.file, library.source);
    });
  };
  expand(file, source);
  return { code: [...directives, ...out].join('\n'), lines: [...directiveLines, ...lines] };
}

/** `file.wgsl:line` of a composed line (1-based), for compiler messages. */
export function sourceLocation(shader: ComposedShader, composedLine: number): string {
  const origin = shader.lines[composedLine - 1];
  return origin ? `${origin.file}:${origin.line}` : `line ${composedLine}`;
}
