#!/bin/sh
# Regenerates this folder from the committed store: the rho matrix of the strategies with a
# ranking and, from the same rankings, the blog's three comparisons (least confidence against
# the study's Bayesian least confidence, DFAL and the study's EGL), on the model of least
# confidence's run at seed 0; albench's own Bayesian rules and EGL are in the matrix.
# Run from the repository root.
set -e
RANKED="least-confidence margin entropy bayesian-least-confidence bayesian-entropy bald
  variation-ratios dfal egl ensemble-entropy qbc batchbald badge typiclust random
  bayesian-least-confidence-study bayesian-entropy-study egl-study"
compare() {  # suite, round
  albench compare $RANKED --suite "$1" --seed 0 --round "$2" --results leaderboards/results \
    --out leaderboards/comparisons \
    --pair-with bayesian-least-confidence-study --pair-with dfal --pair-with egl-study
}
compare quick 5        # round 5 of 10
compare fmnist-b10 5   # round 5 of 10 (150 labels)
compare fmnist-b100 3  # round 3 of 5 (400 labels)
