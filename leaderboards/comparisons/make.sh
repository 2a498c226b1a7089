#!/bin/sh
# Regenerates this folder from the committed store: the rho matrix of the strategies with a
# ranking and, from the same rankings, the blog's three comparisons (least confidence against
# Bayesian least confidence, DFAL and EGL), on the model of least confidence's run at seed 0.
# Run from the repository root.
set -e
RANKED="least-confidence margin entropy bayesian-least-confidence bayesian-entropy bald
  variation-ratios dfal egl ensemble-entropy qbc batchbald badge typiclust random"
# quick (version 2): the study's variants of the Bayesian rules and EGL beside albench's.
albench compare $RANKED bayesian-least-confidence-study bayesian-entropy-study egl-study \
  --suite quick --seed 0 --round 5 --results leaderboards/results \
  --out leaderboards/comparisons \
  --pair-with bayesian-least-confidence-study --pair-with dfal --pair-with egl-study
# fmnist-b100 (version 1 until its version-2 records land): albench's variants only.
albench compare $RANKED \
  --suite fmnist-b100 --seed 0 --round 1 --results leaderboards/results \
  --out leaderboards/comparisons \
  --pair-with bayesian-least-confidence --pair-with dfal --pair-with egl
