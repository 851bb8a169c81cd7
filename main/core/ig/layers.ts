// Layer attribution: splits a chain-shaped layers model at one layer, so that gradients can be taken with
// respect to that layer's output (or its input, with `toInputs`), as Alibi's `layer` and
// `attribute_to_layer_inputs` do.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export interface LayerSelector {
  /** The layer's name, or its index in `model.layers`. */
  layer: string | number;
  /** Attribute to the layer's inputs instead of its outputs. */
  toInputs?: boolean;
}

export interface LayerSplit {
  /** Model inputs → the attributed activations. */
  before(x: tf.Tensor): tf.Tensor;
  /** The attributed activations → model outputs. */
  after(h: tf.Tensor): tf.Tensor;
  layerName: string;
}

type Layer = tfl.LayersModel['layers'][number];

/** The model's layers in order, without the InputLayer, checked to form a single chain. */
export function chain(model: tfl.LayersModel): Layer[] {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  for (let i = 1; i < layers.length; i++) {
    const inbound = layers[i]!.inboundNodes.flatMap((node) => node.inboundLayers.map((l) => l.name));
    if (inbound.length !== 1 || inbound[0] !== layers[i - 1]!.name) {
      throw new Error(
        `layer attribution needs a chain of layers; ${layers[i]!.name} does not follow ${layers[i - 1]!.name} alone`,
      );
    }
  }
  return layers;
}

export function resolveLayerSplit(model: tfl.LayersModel, sel: LayerSelector): LayerSplit {
  const layers = chain(model);
  const index =
    typeof sel.layer === 'number'
      ? layers.indexOf(model.layers[sel.layer] as Layer)
      : layers.findIndex((l) => l.name === sel.layer);
  if (index < 0) {
    const names = layers.map((l) => l.name).join(', ');
    throw new RangeError(
      `layer ${JSON.stringify(sel.layer)} is not a layer of this model (layers: ${names})`,
    );
  }
  const cut = sel.toInputs ? index : index + 1;
  const run = (from: number, to: number, t: tf.Tensor): tf.Tensor => {
    let h = t;
    for (let i = from; i < to; i++) h = layers[i]!.apply(h, { training: false }) as tf.Tensor;
    return h;
  };
  return {
    before: (x) => run(0, cut, x),
    after: (h) => run(cut, layers.length, h),
    layerName: layers[index]!.name,
  };
}
