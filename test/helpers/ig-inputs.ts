/** Three instances of four inputs, and a baseline for each: what the IG tests explain. */
export const X = [
  [1, 2, -1, 0.5],
  [3, -2, 1, 1],
  [-0.5, 0.25, 2, -1.5],
];
export const BASELINES = [
  [0, 0, 0, 0],
  [0.5, -0.5, 1, 0],
  [1, 1, 1, 1],
];
