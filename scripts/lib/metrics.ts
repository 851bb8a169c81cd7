// Held-out metrics of a binary classifier that outputs P(positive).

/** ROC AUC as the Mann–Whitney U statistic: P(score of a positive > score of a negative), ties count ½. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkSameLength(scores, labels);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]!] === scores[order[start]!]) end++;
    // Tied scores share the average of their 1-based ranks.
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        positiveRankSum += rank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('AUC needs both classes among the labels');
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Share of rows where (score ≥ threshold) matches the label. */
export function accuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  const n = checkSameLength(scores, labels);
  let right = 0;
  for (let i = 0; i < n; i++) if ((scores[i]! >= threshold ? 1 : 0) === labels[i]) right++;
  return right / n;
}

/** Mean binary cross-entropy in nats, with probabilities clipped away from 0 and 1. */
export function logLoss(scores: ArrayLike<number>, labels: ArrayLike<number>, eps = 1e-7): number {
  const n = checkSameLength(scores, labels);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - eps, Math.max(eps, scores[i]!));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / n;
}

function checkSameLength(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (scores.length !== labels.length) {
    throw new RangeError(`${scores.length} scores but ${labels.length} labels`);
  }
  if (scores.length === 0) throw new RangeError('no rows to score');
  return scores.length;
}
