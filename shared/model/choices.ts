/**
 * The model's configuration vocabulary, free of TensorFlow.js so that stage definitions and
 * `status` can load it without paying for tfjs.
 */

export const MODES = ["csn", "standard", "task-specific"] as const;
export type Mode = typeof MODES[number];

export interface BackboneConfig {
  /** 3 for RGB, 1 for grayscale glyphs. */
  readonly inChannels: number;
  /** Square input side; informative (the pool is global), used for shape checks. */
  readonly inputSize: number;
  /** Channels of conv1 and layer1; layer2 and layer3 have 2x and 4x. 64 in ResNet-18. */
  readonly width: number;
  readonly embedDim: number;
}

export const PRESETS = {
  /** The paper: RGB 112x112, full ResNet-18 widths (about 2.8 M parameters). */
  paper: { inChannels: 3, inputSize: 112, width: 64, embedDim: 64 },
  /** 64x64 grayscale glyphs; width 16 gives about 179 k parameters. */
  small: { inChannels: 1, inputSize: 64, width: 16, embedDim: 64 },
} as const satisfies Record<string, BackboneConfig>;

export type PresetName = keyof typeof PRESETS;
