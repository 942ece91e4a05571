// Float64 CPU references of the peer libraries' Dice-family APIs (src/reference/peers/) checked
// against every case of test/fixtures/vectors-public.json, plus hand-worked checks.
// Pure CPU: nothing here touches WebGPU.

import { describe, expect, it } from 'vitest';
import { type MetricReduction, doMetricReduction } from '../../src/peers/monai.js';
import {
  type Nested,
  type PeerValue,
  evaluatePeerCase,
  fromNested,
  peerReference,
} from '../../src/reference/peers/index.js';
import { expectVectorResult, flat, loadVectors } from '../helpers/peer-vectors.js';

const cases = loadVectors();

// ---------------------------------------------------------------------------------------------
// All public vectors, one `it` per case, grouped by library
// ---------------------------------------------------------------------------------------------

const libraries = [...new Set(cases.map((c) => c.library))];

describe('peer vectors (vectors-public.json)', () => {
  it('holds the 92 public cases', () => {
    expect(cases.length).toBe(92);
  });

  for (const library of libraries) {
    describe(library, () => {
      for (const c of cases.filter((x) => x.library === library)) {
        it(c.id, () => {
          expectVectorResult(c, evaluatePeerCase(c));
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Hand-worked checks
// ---------------------------------------------------------------------------------------------

const ref = (
  api: string,
): ((opts: Record<string, unknown>, input: Nested, target: Nested, extras?: object) => PeerValue) => {
  const fn = peerReference[api];
  if (!fn) throw new Error(`missing ${api}`);
  return fn;
};
const num = (v: PeerValue): number => {
  if (typeof v !== 'number') throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return v;
};

describe('(b.5) same input, different answers (library defaults)', () => {
  // One binary image, 2x2, channel-first [1, 1, 2, 2] (channels-last [1, 2, 2, 1] for Keras / qsm).
  const zerosCF = [
    [
      [
        [0, 0],
        [0, 0],
      ],
    ],
  ];
  const zerosCL = [
    [
      [[0], [0]],
      [[0], [0]],
    ],
  ];
  const predCF = [
    [
      [
        [1, 1],
        [0, 0],
      ],
    ],
  ]; // Σp = 2
  const predCL = [
    [
      [[1], [1]],
      [[0], [0]],
    ],
  ];

  it('empty GT, empty pred: MONAI 0, smp 0, Keras 1, qsm 0, nnU-Net −1', () => {
    expect(num(ref('monai.losses.DiceLoss')({}, zerosCF, zerosCF))).toBeCloseTo(0, 12);
    expect(
      num(ref('segmentation_models_pytorch.losses.DiceLoss')({ mode: 'binary', from_logits: false }, zerosCF, zerosCF)),
    ).toBe(0);
    expect(num(ref('keras.losses.Dice')({}, zerosCL, zerosCL))).toBe(1);
    expect(num(ref('segmentation_models.losses.DiceLoss')({}, zerosCL, zerosCL))).toBeCloseTo(0, 12);
    // trainer settings (do_bg=False, smooth=1e-5) on 2 channels, probabilities given directly
    const p2 = [
      [
        [
          [1, 1],
          [1, 1],
        ],
        [
          [0, 0],
          [0, 0],
        ],
      ],
    ];
    const g2 = [
      [
        [
          [1, 1],
          [1, 1],
        ],
        [
          [0, 0],
          [0, 0],
        ],
      ],
    ];
    expect(
      num(ref('nnunetv2.training.loss.dice.MemoryEfficientSoftDiceLoss')({ do_bg: false, smooth: 1e-5 }, p2, g2)),
    ).toBeCloseTo(-1, 12);
  });

  it('empty GT, non-empty pred: MONAI ≈1, smp 0 (class dropped), Keras 1, qsm ≈1, nnU-Net ≈0', () => {
    // MONAI: 1 − 1e-5/(2 + 1e-5)
    expect(num(ref('monai.losses.DiceLoss')({}, predCF, zerosCF))).toBeCloseTo(1 - 1e-5 / (2 + 1e-5), 12);
    expect(
      num(ref('segmentation_models_pytorch.losses.DiceLoss')({ mode: 'binary', from_logits: false }, predCF, zerosCF)),
    ).toBe(0);
    expect(num(ref('keras.losses.Dice')({}, predCL, zerosCL))).toBe(1);
    expect(num(ref('segmentation_models.losses.DiceLoss')({}, predCL, zerosCL))).toBeCloseTo(1 - 1e-5 / (2 + 1e-5), 12);
    const p2 = [
      [
        [
          [0, 0],
          [1, 1],
        ],
        [
          [1, 1],
          [0, 0],
        ],
      ],
    ];
    const g2 = [
      [
        [
          [1, 1],
          [1, 1],
        ],
        [
          [0, 0],
          [0, 0],
        ],
      ],
    ];
    expect(
      num(ref('nnunetv2.training.loss.dice.MemoryEfficientSoftDiceLoss')({ do_bg: false, smooth: 1e-5 }, p2, g2)),
    ).toBeCloseTo(-1e-5 / (2 + 1e-5), 12);
  });

  it('batch of 2 images: MONAI averages per-image Dice, smp / Keras / qsm pool the batch, nnU-Net per plans', () => {
    // image 0: perfect (Dice 1); image 1: p = [1, 1], g = [1, 0] → Dice 2/3. Pooled: I = 2, Σp = 3, Σg = 2 → 4/5.
    const p = [[[1, 0]], [[1, 1]]]; // [2, 1, 2] (NCW)
    const g = [[[1, 0]], [[1, 0]]];
    const pCL = [
      [[1], [0]],
      [[1], [1]],
    ]; // [2, 2, 1] (NWC)
    const gCL = [
      [[1], [0]],
      [[1], [0]],
    ];
    expect(num(ref('monai.losses.DiceLoss')({ smooth_nr: 0, smooth_dr: 0 }, p, g))).toBeCloseTo((0 + 1 / 3) / 2, 12);
    expect(num(ref('monai.losses.DiceLoss')({ smooth_nr: 0, smooth_dr: 0, batch: true }, p, g))).toBeCloseTo(0.2, 12);
    expect(
      num(ref('segmentation_models_pytorch.losses.DiceLoss')({ mode: 'binary', from_logits: false }, p, g)),
    ).toBeCloseTo(0.2, 6);
    expect(num(ref('keras.losses.Dice')({}, pCL, gCL))).toBeCloseTo(1 - 4 / (5 + 1e-7), 12);
    // qsm reduces axes [1, 2] (+0): give it a 4-D NHWC tensor [2, 1, 2, 1]
    expect(
      num(
        ref('segmentation_models.losses.DiceLoss')(
          { smooth: 0 },
          [[[[1], [0]]], [[[1], [1]]]],
          [[[[1], [0]]], [[[1], [0]]]],
        ),
      ),
    ).toBeCloseTo(0.2, 12);
    const nn = ref('nnunetv2.training.loss.dice.SoftDiceLoss');
    expect(num(nn({ smooth: 0 }, p, g))).toBeCloseTo(-(1 + 2 / 3) / 2, 12);
    expect(num(nn({ smooth: 0, batch_dice: true }, p, g))).toBeCloseTo(-0.8, 12);
  });

  it('Keras axis=None pools classes too (one Dice for everything)', () => {
    // channels-last [1, 2, 2]: class 0 perfect, class 1 disjoint → pooled I = 1, Σ = 4 → 1 − 2/4
    const yPred = [
      [
        [1, 1],
        [0, 0],
      ],
    ];
    const yTrue = [
      [
        [1, 0],
        [0, 1],
      ],
    ];
    expect(num(ref('keras.losses.Dice')({}, yPred, yTrue))).toBeCloseTo(1 - 2 / (4 + 1e-7), 12);
    expect(ref('keras.losses.Dice')({ axis: [1], reduction: 'none' }, yPred, yTrue)).toEqual([
      [1 - 2 / (2 + 1e-7), 1 - 0 / (2 + 1e-7)],
    ]);
  });
});

describe('smoothing conventions', () => {
  // p = [1, 0], g = [1, 1]: I = 1, Σp = 1, Σg = 2
  const p = [[[1, 0]]];
  const g = [[[1, 1]]];

  it('MONAI Jaccard halves the effective smoothing: 1 − (2I + s)/(2(Σp + Σg − I) + s)', () => {
    expect(num(ref('monai.losses.DiceLoss')({ jaccard: true, smooth_nr: 1, smooth_dr: 1 }, p, g))).toBeCloseTo(
      1 - 3 / 5,
      12,
    );
  });

  it('MONAI Tversky(α=β=½) ≠ DiceLoss when smoothing ≠ 0 (smoothing counted once vs twice)', () => {
    expect(num(ref('monai.losses.DiceLoss')({ smooth_nr: 1, smooth_dr: 1 }, p, g))).toBeCloseTo(1 - 3 / 4, 12);
    expect(num(ref('monai.losses.TverskyLoss')({ smooth_nr: 1, smooth_dr: 1 }, p, g))).toBeCloseTo(1 - 2 / 2.5, 12);
  });

  it('smp soft_dice_score after PR #927 doubles the smoothing: (I + s)/(I + ½fp + ½fn + s)', () => {
    const score = ref('segmentation_models_pytorch.losses._functional.soft_dice_score');
    expect(num(score({ smooth: 1 }, [1, 0], [1, 1]))).toBeCloseTo(2 / 2.5, 12); // old formula: 3/4
    expect(num(score({ smooth: 0 }, [1, 0], [1, 1]))).toBeCloseTo(2 / 3, 12);
  });

  it('MONAI soft_label uses the L1 form: DiceLoss(x, x) = 0 for soft x, the classic form does not', () => {
    const x = [[[0.3, 0.6, 0.9]]];
    expect(num(ref('monai.losses.DiceLoss')({ soft_label: true, smooth_nr: 0, smooth_dr: 0 }, x, x))).toBeCloseTo(
      0,
      12,
    );
    // classic: 1 − 2Σx²/(2Σx) = 1 − 1.26/1.8
    expect(num(ref('monai.losses.DiceLoss')({ smooth_nr: 0, smooth_dr: 0 }, x, x))).toBeCloseTo(1 - 1.26 / 1.8, 12);
  });

  it('nnU-Net SoftDiceLoss = MONAI DiceLoss(smooth_nr = smooth_dr = s) − 1 for probabilities in [0, 1]', () => {
    const pp = [
      [
        [0.2, 0.7, 0.1],
        [0.8, 0.3, 0.9],
      ],
      [
        [0.5, 0.5, 0.4],
        [0.5, 0.5, 0.6],
      ],
    ];
    const gg = [
      [
        [0, 1, 0],
        [1, 0, 1],
      ],
      [
        [1, 1, 0],
        [0, 0, 1],
      ],
    ];
    const m = num(ref('monai.losses.DiceLoss')({ smooth_nr: 1e-5, smooth_dr: 1e-5 }, pp, gg));
    const n = num(ref('nnunetv2.training.loss.dice.SoftDiceLoss')({ smooth: 1e-5 }, pp, gg));
    const me = num(ref('nnunetv2.training.loss.dice.MemoryEfficientSoftDiceLoss')({ smooth: 1e-5 }, pp, gg));
    expect(n).toBeCloseTo(m - 1, 12);
    expect(me).toBeCloseTo(m - 1, 12);
  });
});

describe('other hand-worked semantics', () => {
  it('MONAI GeneralizedWassersteinDiceLoss uses per-sample alpha for batch > 1 (fixed #4650 behaviour)', () => {
    const gwdl = ref('monai.losses.GeneralizedWassersteinDiceLoss');
    const x0 = [[[2, 0, 1, 0.5]], [[0, 1, -1, 0.5]], [[0.3, 0, 0, 2]]]; // [3, 1, 4]
    const x1 = [[[0, 0, 0, 3]], [[1, 2, 0, 0]], [[0, 0, 4, 0]]];
    const t0 = [[0, 1, 1, 2]];
    const t1 = [[2, 2, 0, 0]];
    const M = [
      [0, 1, 1],
      [1, 0, 0.5],
      [1, 0.5, 0],
    ];
    for (const weighting_mode of ['default', 'GDL']) {
      const opts = { dist_matrix: M, weighting_mode, reduction: 'none' };
      const l0 = flatNum(gwdl(opts, [x0], [t0]));
      const l1 = flatNum(gwdl(opts, [x1], [t1]));
      const both = flatNum(gwdl(opts, [x0, x1], [t0, t1]));
      expect(both[0]).toBeCloseTo(l0[0], 12);
      expect(both[1]).toBeCloseTo(l1[0], 12);
    }
  });

  it('MONAI metric reductions skip NaNs (do_metric_reduction)', () => {
    const f = fromNested([
      [1, Number.NaN],
      [0.5, Number.NaN],
    ]);
    const r = (red: MetricReduction): number[] => Array.from(doMetricReduction(f, red).value.data);
    expect(r('mean')).toEqual([0.75]);
    expect(r('sum')).toEqual([1.5]);
    expect(r('mean_batch')).toEqual([0.75, 0]);
    expect(r('sum_batch')).toEqual([1.5, 0]);
    expect(r('mean_channel')).toEqual([1, 0.5]);
    expect(r('sum_channel')).toEqual([1, 0.5]);
    expect(Array.from(doMetricReduction(f, 'mean_batch').notNans.data)).toEqual([2, 0]);
  });

  it('MONAI MaskedDiceLoss masks logits before the sigmoid (masked voxels count as p = 0.5)', () => {
    const masked = ref('monai.losses.MaskedDiceLoss');
    // all voxels masked: p = 0.5 everywhere, g = 0 → 1 − s/(Σp + s) with Σp = 2
    const v = num(
      masked({ sigmoid: true, smooth_nr: 0, smooth_dr: 0 }, [[[3, -3, 3, -3]]], [[[1, 0, 1, 0]]], {
        mask: [[[0, 0, 0, 0]]],
      }),
    );
    expect(v).toBeCloseTo(1, 12);
  });

  it('channels-last layouts are moved to channel-first for the torch libraries', () => {
    const cf = [
      [
        [
          [-1, 0],
          [1, 2],
        ],
        [
          [1, 0],
          [-1, -2],
        ],
      ],
    ]; // [1, 2, 2, 2] NCHW
    const cl = [
      [
        [
          [-1, 1],
          [0, 0],
        ],
        [
          [1, -1],
          [2, -2],
        ],
      ],
    ]; // same data, NHWC
    const g = [
      [
        [
          [0, 1],
          [1, 0],
        ],
      ],
    ];
    const gl = [
      [
        [[0], [1]],
        [[1], [0]],
      ],
    ];
    const opts = { softmax: true, to_onehot_y: true };
    const a = num(ref('monai.losses.DiceLoss')(opts, cf, g, { layout: 'NCHW' }));
    const b = num(ref('monai.losses.DiceLoss')(opts, cl, gl, { layout: 'NHWC' }));
    expect(b).toBeCloseTo(a, 14);
  });

  it('nnU-Net DC_and_CE_loss with ignore_label masks Dice and CE', () => {
    // zero logits: p = ½ for both classes, CE = ln 2 on each valid voxel; voxel 2 is ignored.
    const x = [
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
    ]; // [1, 2, 3]
    const t = [[[0, 1, 255]]];
    const v = num(
      ref('nnunetv2.training.loss.compound_losses.DC_and_CE_loss')(
        {
          soft_dice_kwargs: { batch_dice: false, smooth: 1e-5, do_bg: false },
          ce_kwargs: {},
          ignore_label: 255,
          dice_class: 'MemoryEfficientSoftDiceLoss',
        },
        x,
        t,
      ),
    );
    // class 1 on the 2 valid voxels: I = ½, Σp = 1, Σg = 1
    expect(v).toBeCloseTo(Math.LN2 - (1 + 1e-5) / (2 + 1e-5), 12);
  });
});

describe('option checking', () => {
  const x = [[[0.2, 0.8]]];
  const y = [[[0, 1]]];

  it('rejects a misspelt option, naming it and the valid ones', () => {
    expect(() => ref('monai.losses.DiceLoss')({ smooth: 1e-5 }, x, y)).toThrow(/unknown option 'smooth'.*smooth_nr/);
    expect(() =>
      ref('segmentation_models_pytorch.losses.DiceLoss')({ mode: 'binary', from_logit: false }, x, y),
    ).toThrow(/unknown option 'from_logit'.*from_logits/);
    expect(() => ref('keras.losses.Dice')({ axes: [1] }, x, y)).toThrow(/unknown option 'axes'.*axis/);
    expect(() => ref('segmentation_models.metrics.FScore')({ treshold: 0.5 }, x, y)).toThrow(
      /unknown option 'treshold'.*threshold/,
    );
    expect(() =>
      ref('nnunetv2.training.loss.compound_losses.DC_and_CE_loss')(
        { soft_dice_kwargs: { batchdice: true } },
        [
          [
            [0, 0],
            [0, 0],
          ],
        ],
        [[[0, 1]]],
      ),
    ).toThrow(/unknown option 'batchdice'.*batch_dice/);
  });

  it('rejects an unknown api', () => {
    expect(() => evaluatePeerCase({ api: 'monai.losses.DiceLos', input: x, target: y })).toThrow(/no peer reference/);
  });
});

function flatNum(v: PeerValue): number[] {
  return flat(v);
}
