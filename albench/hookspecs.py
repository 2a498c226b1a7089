"""Every hook albench calls: the contract between the harness and its plugins.

A plugin is a module (or object) with functions decorated by :data:`albench.hookimpl`
whose names match the specs below. Installed packages expose plugins through the
``albench`` entry-point group; albench's own datasets, models, strategies and executors are
registered through these very hooks (see ``albench/builtin``).

Every ``albench_register_*`` hook receives a ``register`` callback instead of returning
values, so the harness owns naming: a name registered twice is an error naming both
plugins. Implementations may accept a subset of the arguments. A ``factory`` (or
``loader``) is a callable or a ``"package.module:attr"`` string naming one, which albench
imports only when the item is first used: registering by name keeps loading the plugins
(``albench list``) free of heavy imports.
"""

import pluggy

hookspec = pluggy.HookspecMarker("albench")


@hookspec
def albench_register_datasets(register):
    """Register dataset loaders.

    :param register: ``register(name, loader, description="")``. ``loader(**options)``
        returns an :class:`albench.types.Dataset`; ``options`` come from the suite file
        (for example ``data_dir``, ``pool_size``) and unknown options must raise ``TypeError``.
    """


@hookspec
def albench_register_models(register):
    """Register model factories.

    :param register: ``register(name, factory, description="")``.
        ``factory(input_shape, num_classes, **options)`` returns a fresh, randomly
        initialised :class:`albench.types.ALModel` (an ``nn.Module`` with ``embed`` and
        ``head``). Factories must draw initial weights from torch's default generator
        only, so that the harness can seed them.
    """


@hookspec
def albench_register_strategies(register):
    """Register query strategies.

    :param register: ``register(name, factory, description="")``.
        ``factory(**options)`` returns an object with
        ``select(context: QueryContext, budget: int) -> array of pool indices``.
        The indices must be ``budget`` distinct members of ``context.unlabeled_idx``;
        randomness must come from ``context.rng`` (never global random state).
        A greedy strategy should also have ``scores(context) -> array``, one number per
        entry of ``context.unlabeled_idx`` (higher = picked first), and select their
        ``albench.scoring.top_k``; a batch strategy may have
        ``selection_order(context, budget)``, its batch in pick order (see
        :class:`albench.Strategy`). ``albench compare`` ranks the pool by these.
    """


@hookspec
def albench_register_executors(register):
    """Register executors that carry out a list of runs.

    :param register: ``register(name, factory, description="")``.
        ``factory(**options)`` returns an :class:`albench.executors.Executor`. Executors
        compute rounds anywhere they like, but only the driver writes results.
    """
