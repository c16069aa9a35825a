import type { LayersModel } from '@tensorflow/tfjs';

/** One dense layer's weights, copied out of a tfjs model for a plain-JS forward pass. */
export interface DenseLayer {
  /** Row-major [inputs][units] kernel, float32 like tfjs. */
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
  activation: 'relu' | 'sigmoid' | 'linear';
}

const ACTIVATIONS: ReadonlySet<string> = new Set(['relu', 'sigmoid', 'linear']);

/**
 * The dense layers' weights, read once from a tfjs model, for a synchronous forward pass on the request path (no
 * tensor allocation or backend dispatch). Undefined when the model holds anything but dense relu/sigmoid/linear layers.
 */
export function compileDenseStack(model: LayersModel): DenseLayer[] | undefined {
  const layers: DenseLayer[] = [];
  for (const layer of model.layers) {
    const config = layer.getConfig() as { activation?: string };
    const activation = config.activation ?? 'linear';
    if (layer.getClassName() !== 'Dense' || !ACTIVATIONS.has(activation)) return undefined;
    const [kernel, bias] = layer.getWeights();
    if (!kernel || kernel.shape.length !== 2) return undefined;
    const [inputs, units] = kernel.shape as [number, number];
    layers.push({
      kernel: Float32Array.from(kernel.dataSync()),
      bias: bias ? Float32Array.from(bias.dataSync()) : new Float32Array(units),
      inputs,
      units,
      activation: activation as DenseLayer['activation'],
    });
  }
  return layers.length > 0 ? layers : undefined;
}

/** Scratch buffers per layer, reused from call to call (request-path code is synchronous). */
export class DenseStack {
  private readonly buffers: Float64Array[];

  constructor(readonly layers: readonly DenseLayer[]) {
    this.buffers = layers.map((layer) => new Float64Array(layer.units));
  }

  get inputs(): number {
    return this.layers[0]!.inputs;
  }

  get outputs(): number {
    return this.layers[this.layers.length - 1]!.units;
  }

  /**
   * The stack's output for one input row: a view valid until the next call (copy what you keep). Equal to tfjs's
   * predict within float32 rounding.
   */
  forward(input: ArrayLike<number>): Float64Array {
    let x: ArrayLike<number> = input;
    for (let l = 0; l < this.layers.length; l++) {
      const layer = this.layers[l]!;
      const out = this.buffers[l]!;
      const { kernel, bias, inputs, units } = layer;
      for (let u = 0; u < units; u++) out[u] = bias[u]!;
      for (let i = 0; i < inputs; i++) {
        const xi = x[i]!;
        if (xi === 0) continue;
        const row = i * units;
        for (let u = 0; u < units; u++) out[u] = out[u]! + xi * kernel[row + u]!;
      }
      if (layer.activation === 'relu') for (let u = 0; u < units; u++) out[u] = Math.max(0, out[u]!);
      else if (layer.activation === 'sigmoid') for (let u = 0; u < units; u++) out[u] = 1 / (1 + Math.exp(-out[u]!));
      x = out;
    }
    return x as Float64Array;
  }
}
