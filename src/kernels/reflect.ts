/**
 * Reads the module-scope declarations of a WGSL source without a GPU: its structs, resource
 * bindings, `override` constants and compute entry points. The runtime resolves binding names
 * and checks uniform field tables against this, so the contract between a `.wgsl` file and the
 * TypeScript that drives it is written once (in the WGSL) and checked, not copied by hand.
 *
 * This is a declaration reader, not a WGSL validator: it understands the module-scope grammar
 * the project's shaders use (attributes in any order, nested block comments, template types,
 * trailing commas) and throws on a declaration it cannot read rather than guessing.
 */

export interface WgslStructField {
  readonly name: string;
  /** The type as written, whitespace normalised: `u32`, `vec4<f32>`, `array<f32, 4>`. */
  readonly type: string;
}

export interface WgslBinding {
  readonly group: number;
  readonly binding: number;
  readonly name: string;
  readonly addressSpace: 'uniform' | 'storage';
  /** Storage buffers only; WGSL's default for `var<storage>` is 'read'. */
  readonly access?: 'read' | 'read_write';
  readonly type: string;
}

export interface WgslOverride {
  readonly name: string;
  readonly type: string;
  /** The initialiser expression as written (whitespace normalised), when there is one. */
  readonly defaultValue?: string;
}

/** A module-scope `const` whose value is an integer literal (`const NAME: u32 = 3u;`, `const NAME = 3u;`). */
export interface WgslConstant {
  readonly name: string;
  /** The type written or, untyped, the literal's (`u32` for `3u`); `abstract-int` for a bare `3`. */
  readonly type: string;
  readonly value: number;
}

export interface WgslReflection {
  /** Struct name to its fields, in declaration order. */
  readonly structs: ReadonlyMap<string, readonly WgslStructField[]>;
  /** Buffer bindings in declaration order. */
  readonly bindings: readonly WgslBinding[];
  readonly overrides: readonly WgslOverride[];
  /**
   * Module-scope constants with integer literal values, in declaration order (mode values such as
   * `ACT_SOFTMAX`, checked against src/kernels/modes.ts); constants with other initialisers are
   * not listed.
   */
  readonly constants: readonly WgslConstant[];
  /** Names of the compute-stage entry points. */
  readonly entryPoints: readonly string[];
}

/** One scalar field of a uniform block as the TypeScript packer writes it. */
export interface UniformField {
  readonly name: string;
  readonly kind: 'u32' | 'f32' | 'i32';
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The source with `// line` and (nesting) `/* block *\/` comments replaced by spaces. */
export function stripWgslComments(source: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const pair = source.slice(i, i + 2);
    if (depth === 0 && pair === '//') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
    } else if (pair === '/*') {
      depth++;
      i++;
    } else if (depth > 0 && pair === '*/') {
      depth--;
      i++;
      if (depth === 0) out += ' ';
    } else if (depth === 0) {
      out += source[i];
    } else if (source[i] === '\n') {
      out += '\n';
    }
  }
  if (depth > 0) throw new Error('wgsl-reflect: unterminated block comment');
  return out;
}

export function reflectWgsl(source: string): WgslReflection {
  const structs = new Map<string, WgslStructField[]>();
  const bindings: WgslBinding[] = [];
  const overrides: WgslOverride[] = [];
  const constants: WgslConstant[] = [];
  const entryPoints: string[] = [];
  for (const declaration of moduleDeclarations(stripWgslComments(source))) {
    const { attributes, rest } = readAttributes(declaration.head);
    const keyword = /^[A-Za-z_]\w*/.exec(rest)?.[0];
    if (keyword === 'struct') {
      const name = rest.slice('struct'.length).trim();
      if (!IDENTIFIER.test(name) || declaration.body === undefined) {
        throw new Error(`wgsl-reflect: cannot read the struct declaration "${rest}"`);
      }
      structs.set(name, parseStructBody(name, declaration.body));
    } else if (keyword === 'var') {
      const binding = parseVar(rest, attributes);
      if (binding) bindings.push(binding);
    } else if (keyword === 'override') {
      overrides.push(parseOverride(rest));
    } else if (keyword === 'const') {
      const constant = parseIntegerConstant(rest);
      if (constant) constants.push(constant);
    } else if (keyword === 'fn' && attributes.has('compute')) {
      const name = /^fn\s+([A-Za-z_]\w*)\s*\(/.exec(rest)?.[1];
      if (!name) throw new Error(`wgsl-reflect: cannot read the entry point "${rest}"`);
      entryPoints.push(name);
    }
  }
  return { structs, bindings, overrides, constants, entryPoints };
}

/**
 * Every difference between a uniform struct's WGSL fields and the TypeScript table that packs
 * it (names, order, scalar types), as sentences; empty when they agree.
 */
export function checkUniformTable(structFields: readonly WgslStructField[], table: readonly UniformField[]): string[] {
  const mismatches: string[] = [];
  const count = Math.max(structFields.length, table.length);
  for (let i = 0; i < count; i++) {
    const wgsl = structFields[i];
    const ts = table[i];
    if (!ts) {
      mismatches.push(`field ${i}: WGSL has "${wgsl.name}: ${wgsl.type}", the table has nothing (add it to the table)`);
    } else if (!wgsl) {
      mismatches.push(
        `field ${i}: the table has "${ts.name}: ${ts.kind}", the WGSL struct has nothing (remove it or add it to the struct)`,
      );
    } else if (wgsl.name !== ts.name || wgsl.type !== ts.kind) {
      mismatches.push(`field ${i}: WGSL has "${wgsl.name}: ${wgsl.type}", the table has "${ts.name}: ${ts.kind}"`);
    }
  }
  return mismatches;
}

interface ModuleDeclaration {
  /** The text before the declaration's `{ body }` or `;`, trimmed. */
  readonly head: string;
  /** The text between the braces of a struct or function. */
  readonly body?: string;
}

/** Cuts module scope at `;` and at the end of each top-level `{ ... }` block. */
function moduleDeclarations(source: string): ModuleDeclaration[] {
  const declarations: ModuleDeclaration[] = [];
  let head = '';
  let bodyStart = -1;
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '{') {
      if (depth === 0) bodyStart = i + 1;
      depth++;
    } else if (ch === '}') {
      if (depth === 0) throw new Error('wgsl-reflect: unbalanced "}" at module scope');
      depth--;
      if (depth === 0) {
        declarations.push({ head: head.trim(), body: source.slice(bodyStart, i) });
        head = '';
      }
    } else if (depth === 0 && ch === ';') {
      if (head.trim()) declarations.push({ head: head.trim() });
      head = '';
    } else if (depth === 0) {
      head += ch;
    }
  }
  if (depth !== 0) throw new Error('wgsl-reflect: unbalanced "{" (a block is never closed)');
  if (head.trim()) throw new Error(`wgsl-reflect: declaration without ";" at the end: "${head.trim()}"`);
  return declarations;
}

/** Leading `@name` / `@name(args)` attributes (args as written) and the text after them. */
function readAttributes(text: string): { attributes: Map<string, string>; rest: string } {
  const attributes = new Map<string, string>();
  let rest = text.trim();
  for (;;) {
    const match = /^@\s*([A-Za-z_]\w*)\s*/.exec(rest);
    if (!match) return { attributes, rest };
    rest = rest.slice(match[0].length);
    let args = '';
    if (rest.startsWith('(')) {
      const close = matchingParen(rest);
      args = rest.slice(1, close).trim();
      rest = rest.slice(close + 1).trimStart();
    }
    attributes.set(match[1], args);
  }
}

/** Index of the `)` closing the `(` at index 0. */
function matchingParen(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  throw new Error(`wgsl-reflect: unbalanced "(" in "${text}"`);
}

/** Splits at commas outside `<...>` and `(...)`, dropping empty pieces (trailing commas). */
function splitTopLevel(text: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '<' || ch === '(') depth++;
    else if (ch === '>' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      pieces.push(text.slice(start, i));
      start = i + 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** `vec4< f32 >` -> `vec4<f32>`, `array<f32,4>` -> `array<f32, 4>`. */
function normaliseType(type: string): string {
  return type.replace(/\s+/g, '').replace(/,/g, ', ');
}

/** `name: type` after any attributes. */
function parseTyped(text: string, what: string): { name: string; type: string } {
  const match = /^([A-Za-z_]\w*)\s*:\s*([\s\S]+)$/.exec(readAttributes(text).rest);
  if (!match) throw new Error(`wgsl-reflect: cannot read ${what} "${text}" (expected "name: type")`);
  return { name: match[1], type: normaliseType(match[2]) };
}

function parseStructBody(structName: string, body: string): WgslStructField[] {
  const fields = splitTopLevel(body).map((member) => parseTyped(member, `a member of struct ${structName}`));
  if (fields.length === 0) throw new Error(`wgsl-reflect: struct ${structName} has no members`);
  return fields;
}

/** A `var<uniform>` / `var<storage, ...>` with @group and @binding; undefined for other module vars. */
function parseVar(text: string, attributes: Map<string, string>): WgslBinding | undefined {
  const match = /^var\s*(?:<([^>]*)>)?\s*([\s\S]*)$/.exec(text)!;
  const [space = '', access] = (match[1] ?? '').split(',').map((s) => s.trim());
  const group = attributes.get('group');
  const binding = attributes.get('binding');
  const { name, type } = parseTyped(match[2].replace(/=[\s\S]*$/, ''), 'a module-scope var');
  if (group === undefined && binding === undefined) {
    if (space === 'uniform' || space === 'storage') {
      throw new Error(`wgsl-reflect: var<${match[1]}> ${name} needs @group and @binding`);
    }
    return undefined; // var<private>, var<workgroup>
  }
  if (group === undefined || binding === undefined) {
    throw new Error(
      `wgsl-reflect: ${name} has ${group === undefined ? '@binding but no @group' : '@group but no @binding'}`,
    );
  }
  if (space !== 'uniform' && space !== 'storage') {
    throw new Error(
      `wgsl-reflect: binding ${name} is not a uniform or storage buffer (textures and samplers are not read)`,
    );
  }
  if (access !== undefined && access !== 'read' && access !== 'read_write') {
    throw new Error(`wgsl-reflect: binding ${name} has access "${access}" (expected read or read_write)`);
  }
  return {
    group: bindingIndex(group, '@group', name),
    binding: bindingIndex(binding, '@binding', name),
    name,
    addressSpace: space,
    ...(space === 'storage' ? { access: access ?? 'read' } : {}),
    type,
  };
}

function bindingIndex(value: string, attribute: string, name: string): number {
  const match = /^(\d+)[iu]?$/.exec(value);
  if (!match) throw new Error(`wgsl-reflect: ${attribute}(${value}) of ${name} is not an integer literal`);
  return Number(match[1]);
}

function parseOverride(text: string): WgslOverride {
  const match = /^override\s+([A-Za-z_]\w*)\s*(?::\s*([^=]+?))?\s*(?:=\s*([\s\S]+))?$/.exec(text);
  if (!match) throw new Error(`wgsl-reflect: cannot read the override declaration "${text}"`);
  const [, name, written, initialiser] = match;
  const defaultValue = initialiser === undefined ? undefined : initialiser.trim().replace(/\s+/g, ' ');
  const type = written !== undefined ? normaliseType(written) : literalType(defaultValue);
  if (type === undefined) {
    throw new Error(`wgsl-reflect: override ${name} needs an explicit type (its initialiser is not a literal)`);
  }
  return defaultValue === undefined ? { name, type } : { name, type, defaultValue };
}

/** `const NAME[: type] = <integer literal>`; undefined for a constant with any other initialiser. */
function parseIntegerConstant(text: string): WgslConstant | undefined {
  const match = /^const\s+([A-Za-z_]\w*)\s*(?::\s*([^=]+?))?\s*=\s*([\s\S]+)$/.exec(text);
  if (!match) throw new Error(`wgsl-reflect: cannot read the const declaration "${text}"`);
  const [, name, written, initialiser] = match;
  const literal = /^(0[xX][0-9a-fA-F]+|\d+)([iu]?)$/.exec(initialiser.trim());
  if (!literal) return undefined;
  const type =
    written !== undefined
      ? normaliseType(written)
      : literal[2] === 'u'
        ? 'u32'
        : literal[2] === 'i'
          ? 'i32'
          : 'abstract-int';
  return { name, type, value: Number(literal[1]) };
}

/** The concrete type an untyped `override` takes from a literal initialiser. */
function literalType(literal: string | undefined): string | undefined {
  if (literal === undefined) return undefined;
  if (literal === 'true' || literal === 'false') return 'bool';
  if (/^-?(0[xX][0-9a-fA-F]+|\d+)u$/.test(literal)) return 'u32';
  if (/^-?(0[xX][0-9a-fA-F]+|\d+)i?$/.test(literal)) return 'i32';
  if (/^-?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?[fh]?$/.test(literal)) return literal.endsWith('h') ? 'f16' : 'f32';
  return undefined;
}
