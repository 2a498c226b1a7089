"""What a committed board cost to compute, from its records' measured round times.

For each suite: the runs, the CPU- (or GPU-) hours their rounds took (every query, and the
training of each shared round-0 model once), the wall hours at ``--workers`` runs at a time,
and the strategies that took the largest shares. The seconds are those the records measured, so
they include whatever else the machine was running then.

    python -m benchmarks.board_cost leaderboards/results --suite quick --workers 2

With ``--remaining``, for a store being filled (a rerun in resumable chunks): the runs each
suite's current version still lacks and their predicted cost, each strategy's mean seconds a
complete run of that version; for a strategy with none yet, the version's mean training a run
and its queries' cost in ``--earlier`` records of an older version, scaled by the ratio of
the versions' query costs where both were measured; failing that, with ``--like SUITE``, its
queries' cost in that suite's current version, scaled by the two suites' ratio likewise (for
a suite whose new version has no complete run yet, the training too, by the ratios of their
older versions).

    python -m benchmarks.board_cost results --suite fmnist-b10 --remaining \
        --earlier leaderboards/results --like fmnist-b100
"""

from __future__ import annotations

import argparse
from collections import Counter

from albench.record_files import read_store


def board_cost(records) -> tuple[int, float, Counter, Counter]:
    """Runs, total seconds, seconds per strategy and runs per strategy of ``records``."""
    training, queries, runs = _seconds(records)
    seconds = training + queries
    return sum(runs.values()), sum(seconds.values()), seconds, runs


def _seconds(records) -> tuple[Counter, Counter, Counter]:
    """Seconds training, seconds querying and runs, per strategy of ``records``."""
    training, queries, runs, shared_zeros = Counter(), Counter(), Counter(), set()
    for record in records:
        strategy = record.spec.strategy
        runs[strategy] += 1
        for round_ in record.rounds:
            train = round_.train_seconds
            if round_.round == 0 and record.round_zero is not None:
                if record.round_zero in shared_zeros:
                    train = 0.0  # trained once for every strategy of the seed
                shared_zeros.add(record.round_zero)
            training[strategy] += train
            queries[strategy] += round_.query_seconds or 0.0
    return training, queries, runs


def _unique(records) -> list:
    """``records`` without repeats: a run may be both in the store and in exported folders."""
    return list({record.run_id: record for record in records}.values())


def remaining_cost(suite_name: str, records, earlier=(), like=()) -> tuple[Counter, Counter,
                                                                          dict]:
    """Runs missing per strategy of ``suite_name``'s current version, their predicted
    seconds, and how each strategy's prediction was made.

    A strategy with complete runs of the current version is predicted by their mean. One with
    none trains as long as the version's complete runs did on average (the loop trains the
    same model whatever the strategy), and queries as long as in ``earlier`` records
    (complete runs of older versions) times the ratio of the two versions' query costs over
    the strategies complete in both; failing that, as in ``like`` (complete runs of another
    suite's current version) times the two suites' ratio likewise. With none of the current
    version complete, the training too is scaled from the source, by the ratio of the
    training costs, and ``like`` by the two suites' ratios in ``earlier``. A run given twice
    counts once."""
    from albench.plugins import get_plugins
    from albench.spec import load_suite

    earlier, like = _unique(earlier), _unique(like)
    suite = load_suite(suite_name)
    names = suite.strategy_names(get_plugins().names("strategies"))
    complete = [r for r in records
                if r.spec.suite_version == suite.version and r.status == "complete"]
    done = {(r.spec.strategy, r.spec.seed) for r in complete}
    now, training_now = _mean_parts(complete), _mean_training(complete)
    older = [r for r in earlier if r.spec.suite == suite_name
             and r.spec.suite_version < suite.version and r.status == "complete"]
    before = _mean_parts(older)
    sources = [(before, _mean_training(older), _ratios(now, before), "earlier version")]
    if like:
        name, version = like[0].spec.suite, like[0].spec.suite_version
        others = [r for r in like if r.status == "complete"]
        other = _mean_parts(others)
        ratios, label = _ratios(now, other), name
        if ratios is None:  # nothing of this version measured yet: the suites' older runs
            other_before = _mean_parts([r for r in earlier if r.spec.suite == name
                                        and r.spec.suite_version < version
                                        and r.status == "complete"])
            ratios, label = _ratios(before, other_before), f"{name} (as earlier versions)"
        sources.append((other, _mean_training(others), ratios, label))
    missing, predicted, how = Counter(), Counter(), {}
    for spec in suite.run_specs(names):
        if (spec.strategy, spec.seed) in done:
            continue
        name = spec.strategy
        missing[name] += 1
        how[name] = "unmeasured"
        if name in now:
            predicted[name] += sum(now[name])
            how[name] = "measured"
            continue
        for means, training, ratios, label in sources:
            if name in means and ratios is not None:
                train_ratio, query_ratio = ratios
                if training_now is not None:
                    train, trained = training_now, "as measured"
                else:
                    train, trained = training * train_ratio, f"x {train_ratio:.2f}"
                predicted[name] += train + means[name][1] * query_ratio
                how[name] = f"{label}: queries x {query_ratio:.2f}, training {trained}"
                break
    return missing, predicted, how


def _ratios(now: dict, then: dict) -> tuple[float, float] | None:
    """Training and query cost of ``now`` over ``then`` (each ``_mean_parts``) on the
    strategies measured in both; None if none, 1 for a part that took no time then."""
    both = set(now) & set(then)
    if not both:
        return None

    def ratio(part: int) -> float:
        total = sum(then[s][part] for s in both)
        return sum(now[s][part] for s in both) / total if total else 1.0

    return ratio(0), ratio(1)


def _mean_training(records) -> float | None:
    """The mean seconds a run of ``records`` spent training, whatever its strategy."""
    training, _, runs = _seconds(records)
    return sum(training.values()) / sum(runs.values()) if runs else None


def _mean_parts(records) -> dict[str, tuple[float, float]]:
    """Per strategy, the mean seconds a run of ``records`` spent training and querying."""
    training, queries, runs = _seconds(records)
    return {s: (training[s] / runs[s], queries[s] / runs[s]) for s in runs}


def print_remaining(suite: str, records, earlier, like, workers: int) -> None:
    missing, predicted, how = remaining_cost(suite, records, earlier, like)
    total = sum(predicted.values())
    unmeasured = sorted(s for s, h in how.items() if h == "unmeasured")
    print(f"{suite}: {sum(missing.values())} runs left, {total / 3600:.2f} device-hours "
          f"predicted ({total / 3600 / workers:.2f} h at {workers} workers)"
          + (f", not counting {len(unmeasured)} unmeasured strategies" if unmeasured else ""))
    for strategy, count in sorted(missing.items()):
        cost = ("" if how[strategy] == "unmeasured"
                else f" {predicted[strategy] / count:.0f} s a run,")
        print(f"  {strategy}: {count} runs,{cost} {how[strategy]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a results directory or a folder of record files")
    parser.add_argument("--suite", action="append", help="only these suites (repeat)")
    parser.add_argument("--workers", type=int, default=2, help="runs at a time, for wall time")
    parser.add_argument("--top", type=int, default=5, help="strategies listed per suite")
    parser.add_argument("--remaining", action="store_true",
                        help="the runs each suite's current version lacks, and their cost")
    parser.add_argument("--earlier", action="append", default=[],
                        help="with --remaining: records of older versions (e.g. "
                        "leaderboards/results) to predict unmeasured strategies from (repeat)")
    parser.add_argument("--like", help="with --remaining: a suite whose current version's "
                        "records (here or in --earlier) predict strategies unmeasured otherwise")
    args = parser.parse_args()
    stored = list(read_store(args.results))
    by_suite: dict[str, list] = {}
    for record in stored:
        if not args.suite or record.spec.suite in args.suite:
            by_suite.setdefault(record.spec.suite, []).append(record)
    earlier = [record for folder in args.earlier for record in read_store(folder)]
    if args.remaining:  # a suite the store has no run of yet lacks all of them
        like = []
        if args.like:
            from albench.spec import load_suite

            version = load_suite(args.like).version
            like = [r for r in stored + earlier
                    if r.spec.suite == args.like and r.spec.suite_version == version]
        for suite in args.suite or sorted(by_suite):
            print_remaining(suite, by_suite.get(suite, []), earlier, like, args.workers)
        return
    for suite, records in sorted(by_suite.items()):
        n, total, seconds, runs = board_cost([r for r in records if r.status == "complete"])
        print(f"{suite}: {n} runs, {total / 3600:.2f} device-hours of rounds, "
              f"{total / 3600 / args.workers:.2f} h at {args.workers} workers, "
              f"{3600 * n / total * args.workers:.0f} runs/h")
        for strategy, spent in seconds.most_common(args.top):
            print(f"  {strategy}: {100 * spent / total:.1f}% ({runs[strategy]} runs, "
                  f"{spent / runs[strategy]:.0f} s a run)")


if __name__ == "__main__":
    main()
