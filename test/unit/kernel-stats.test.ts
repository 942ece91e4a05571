// `npm run kernel-stats` without a GPU or the tools it runs: reading the capture process's output
// (Dawn's dumps between our markers), reading kstats' statistics lines, the flags, the tables,
// and what it would install. Samples: test/fixtures/kernel-stats/ (see the README there).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assemblerInput,
  markerLine,
  parseCapture,
  type PipelineMarker,
} from '../../bench/kernel-stats/capture-format.js';
import { flagsOf, MIN_SUBGROUPS_PER_SIMD, rowsFor, type KernelStatsRow } from '../../bench/kernel-stats/index.js';
import { kernelStatsOf, parseKstatsOutput, parseStatsLine } from '../../bench/kernel-stats/radv-stats.js';
import { formatMarkdown, formatText } from '../../bench/kernel-stats/table.js';
import { planToolInstall, type ToolFacts } from '../../bench/kernel-stats/toolchain.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/kernel-stats/${name}`, import.meta.url), 'utf8');

describe('parseCapture', () => {
  const capture = parseCapture(fixture('capture-sample.txt'));

  it('reads the adapter, each pipeline between its markers, and the passes', () => {
    expect(capture.adapter).toEqual({
      description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
      subgroupMinSize: 8,
    });
    expect([...capture.pipelines.keys()]).toEqual([1, 2]);
    expect(capture.passes.map((p) => [p.case, p.pass, p.pipeline])).toEqual([
      ['softmax-u8-3d', 'finalize', 1],
      ['softmax-u8', 'finalize', 2],
    ]);
    const finalize = capture.pipelines.get(1)!;
    expect(finalize.moduleLabel).toBe('kernel-stats family_finalize');
    expect(finalize.constants.WORKGROUP_SIZE).toBe(256);
  });

  it('takes the SPIR-V assembly only: from its header to the last instruction before the next marker', () => {
    const spirv = capture.pipelines.get(1)!.spirv;
    expect(spirv.startsWith('; SPIR-V\n; Version: 1.4\n')).toBe(true);
    expect(spirv.trimEnd().endsWith('OpFunctionEnd')).toBe(true);
    expect(spirv).not.toMatch(/Dumped|info:|@@|\/\//);
    // The WGSL dumped before it belongs to no pipeline.
    expect(spirv).not.toContain('Loss-family');
  });

  it('gives a pipeline Dawn answered from its cache (no dump) the SPIR-V of its twin', () => {
    const twin = capture.pipelines.get(2)!;
    expect(twin.sameAs).toBe(1);
    expect(twin.spirv).toBe(capture.pipelines.get(1)!.spirv);
  });

  const begin = (id: number, moduleLabel = 'kernel-stats k'): PipelineMarker => ({
    event: 'pipeline-begin',
    id,
    label: `${moduleLabel} #${id}`,
    moduleLabel,
    constants: { WORKGROUP_SIZE: 256 },
  });
  const dump = '/* Dumped SPIRV disassembly */\n; SPIR-V\n; Version: 1.4\n               OpCapability Shader\n';

  it('fails loudly when markers and dumps do not pair up', () => {
    const twoDumps = markerLine(begin(0)) + dump + dump + markerLine({ event: 'pipeline-end', id: 0 });
    expect(() => parseCapture(twoDumps)).toThrow(/2 SPIR-V dumps while pipeline 0/);
    expect(() => parseCapture(markerLine(begin(0)) + dump)).toThrow(/pipeline 0 .* has no end marker/);
    const orphan =
      markerLine(begin(0)) +
      dump +
      markerLine({ event: 'pipeline-end', id: 0 }) +
      markerLine(begin(1, 'kernel-stats other')) +
      markerLine({ event: 'pipeline-end', id: 1 });
    expect(() => parseCapture(orphan)).toThrow(/no SPIR-V for pipeline 1 .* no earlier pipeline is the same/);
    expect(() => parseCapture(markerLine(begin(0)) + markerLine({ event: 'pipeline-end', id: 0 }))).toThrow(
      /dump_shaders/,
    );
  });

  it('drops only the maximal-reconvergence lines for the assembler', () => {
    const spirv = capture.pipelines.get(1)!.spirv;
    const input = assemblerInput(spirv);
    expect(spirv).toMatch(/SPV_KHR_maximal_reconvergence/);
    expect(input).not.toMatch(/maximal_reconvergence|MaximallyReconverges/);
    expect(spirv.split('\n').length - input.split('\n').length).toBe(2);
  });
});

describe('kstats output', () => {
  it('parses a statistics line: numbers, and 64-bit hashes kept as text', () => {
    const { file, fields } = parseStatsLine(
      'a.spv\tExecutable=compute\tVGPRs=84\tDriver pipeline hash=4823902552462331569\tLatency=1.5',
    );
    expect(file).toBe('a.spv');
    expect(fields).toEqual({
      Executable: 'compute',
      VGPRs: 84,
      'Driver pipeline hash': '4823902552462331569',
      Latency: 1.5,
    });
    expect(() => parseStatsLine('a.spv\tVGPRs')).toThrow(/not name=value/);
  });

  it("reads the device, each file's figures and the files that failed", () => {
    const output = parseKstatsOutput(fixture('kstats-navi31-sample.txt'));
    expect(output.device).toBe('Null hardware (RADV NAVI31)');
    expect(output.driver).toBe('radv Mesa 25.0.7-2~bpo12+1');
    const reduce = output.files.get('reduce.spv');
    expect(reduce).toMatchObject({
      vgprs: 84,
      sgprs: 128,
      spilled_vgprs: 0,
      spilled_sgprs: 0,
      scratch_bytes: 0,
      lds_bytes: 12800,
      subgroups_per_simd: 18,
      subgroup_size: 64,
      instructions: 751,
    });
    expect(reduce && 'radv' in reduce && reduce.radv['Pre-Sched VGPRs']).toBe(26);
    expect(output.files.get('backward.spv')).toMatchObject({ vgprs: 36, subgroups_per_simd: 32 });
    expect(output.files.get('broken.spv')).toEqual({ error: 'cannot read a SPIR-V binary from this file' });
  });

  it('names a statistic the driver did not report', () => {
    expect(() => kernelStatsOf({ VGPRs: 24 }, 'x.spv')).toThrow(/no numeric 'SGPRs' statistic for x.spv/);
  });
});

const row = (over: Partial<KernelStatsRow>): KernelStatsRow => ({
  date: '2026-12-03',
  family: 'navi31',
  gpu: 'Null hardware (RADV NAVI31)',
  driver: 'radv Mesa 25',
  device_class: 'gpu',
  capture_adapter: 'llvmpipe, subgroups of 8+',
  case: 'softmax-u8',
  shape: [2, 512, 512, 8],
  classes: 8,
  pass: 'forward',
  direction: 'forward',
  kernel: 'family_forward_quads',
  constants: { WORKGROUP_SIZE: 256, REGISTER_CLASSES: 8 },
  vgprs: 72,
  sgprs: 128,
  spilled_vgprs: 0,
  spilled_sgprs: 0,
  scratch_bytes: 0,
  lds_bytes: 8704,
  subgroups_per_simd: 20,
  subgroup_size: 64,
  instructions: 1725,
  flags: [],
  ...over,
});

describe('flags and tables', () => {
  it(`flags scratch and fewer than ${MIN_SUBGROUPS_PER_SIMD} subgroups per SIMD`, () => {
    expect(flagsOf({ scratch_bytes: 0, subgroups_per_simd: 16 })).toEqual([]);
    expect(flagsOf({ scratch_bytes: 4, subgroups_per_simd: 15 })).toEqual(['scratch', 'occupancy']);
  });

  const rows = [
    row({}),
    row({ shape: [8, 512, 512, 8] }),
    row({
      shape: [4, 256, 256, 16],
      classes: 16,
      constants: { WORKGROUP_SIZE: 256, REGISTER_CLASSES: 16 },
      vgprs: 144,
      subgroups_per_simd: 10,
      flags: ['occupancy'],
    }),
  ];

  it('puts shapes that run the same pipeline on one line', () => {
    const text = formatText(rows);
    expect(text).toMatch(
      /^navi31: Null hardware \(RADV NAVI31\), radv Mesa 25, compute waves of 64; gpu plans made on llvmpipe/,
    );
    const lines = text.split('\n').filter((l) => l.startsWith('softmax-u8'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /forward\s+family_forward_quads\s+72\s+128\s+0\/0\s+0\s+8704\s+20\s+1725\s+2x512x512x8 8x512x512x8$/,
    );
    expect(lines[1]).toMatch(/\s144\s.*\s10\s+\d+\s+occupancy\s+4x256x256x16$/);
  });

  it('bolds the flagged figures in Markdown', () => {
    const markdown = formatMarkdown(rows);
    expect(markdown).toContain(
      '| softmax-u8 | forward | family_forward_quads | 144 | 128 | 0/0 | 0 | 8704 | **10** | 1725 | occupancy | 4x256x256x16 |',
    );
  });

  it('finds the rows of one bench case and shape', () => {
    expect(rowsFor(rows, 'softmax-u8', [8, 512, 512, 8])).toEqual([rows[1]]);
    expect(rowsFor(rows, 'seed-global', [8, 512, 512, 8])).toEqual([]);
  });
});

describe('planToolInstall', () => {
  const bookworm = {
    ID: 'debian',
    VERSION_ID: '12',
    VERSION_CODENAME: 'bookworm',
    PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
  };
  const sources =
    'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n';
  const facts = (over: Partial<ToolFacts>): ToolFacts => ({
    osRelease: bookworm,
    isRoot: true,
    hasAptGet: true,
    debianSources: sources,
    missing: [],
    ...over,
  });

  it('installs nothing when everything is there', () => {
    expect(planToolInstall(facts({}))).toBeNull();
  });

  it('takes the missing packages from the release, and Mesa as the lavapipe installer does', () => {
    const plan = planToolInstall(facts({ missing: ['libvulkan-dev', 'spirv-tools', 'mesa-vulkan-drivers'] }));
    expect(plan).toMatchObject({ install: true });
    if (!plan?.install) return;
    expect(plan.sourcesFile?.contents).toContain('Suites: bookworm-backports');
    expect(plan.commands).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', 'libvulkan-dev', 'spirv-tools'],
      ['apt-get', 'install', '-y', '-t', 'bookworm-backports', 'mesa-vulkan-drivers'],
    ]);
    expect(planToolInstall(facts({ missing: ['spirv-tools'] }))).toMatchObject({
      install: true,
      sourcesFile: null,
      commands: [
        ['apt-get', 'update'],
        ['apt-get', 'install', '-y', 'spirv-tools'],
      ],
    });
  });

  it('says the command where it cannot install', () => {
    const notRoot = planToolInstall(facts({ isRoot: false, missing: ['gcc', 'spirv-tools'] }));
    expect(notRoot).toMatchObject({ install: false, reason: expect.stringMatching(/needs root/) });
    expect(notRoot?.manual).toContain('apt-get update && apt-get install -y gcc spirv-tools');
    const fedora = planToolInstall(
      facts({ osRelease: { ID: 'fedora', PRETTY_NAME: 'Fedora Linux 41' }, missing: ['spirv-tools'] }),
    );
    expect(fedora).toMatchObject({
      install: false,
      reason: expect.stringMatching(/Fedora Linux 41 is not a Debian\/Ubuntu system/),
    });
    expect(fedora?.manual).toMatch(/dnf install -y .*spirv-tools/);
  });
});
