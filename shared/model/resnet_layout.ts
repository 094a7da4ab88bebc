/**
 * The shape of the truncated ResNet-18, free of TensorFlow.js so that exporters can walk it
 * without loading tfjs: three layers of two BasicBlocks; the first block of layers 2 and 3
 * halves the map (stride 2) and has a 1x1 conv + BN downsample on its shortcut.
 */

/** PyTorch BatchNorm2d's default epsilon, used by every BatchNorm of the backbone. */
export const BN_EPS = 1e-5;

export interface BlockSpec {
  /** torchvision-style name, e.g. "layer2.0". */
  readonly name: string;
  /** 1, 2 or 3: the block has width * 2^(layer-1) channels. */
  readonly layer: number;
  readonly stride: number;
  readonly downsample: boolean;
}

export function blockSpecs(): BlockSpec[] {
  const specs: BlockSpec[] = [];
  for (const [layer, stride] of [[1, 1], [2, 2], [3, 2]] as const) {
    for (const i of [0, 1]) {
      const first = i === 0;
      specs.push({
        name: `layer${layer}.${i}`,
        layer,
        stride: first ? stride : 1,
        downsample: first && stride !== 1,
      });
    }
  }
  return specs;
}

/** Channels of a block of `layer` in a backbone of `width`. */
export function layerChannels(width: number, layer: number): number {
  return width * 2 ** (layer - 1);
}
