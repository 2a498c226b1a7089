"""albench plugin: discriminative active learning (DAL) and its variants.

The strategies and torch load from :mod:`albench_dal.factories` when one is first used."""

from albench import hookimpl


@hookimpl
def albench_register_strategies(register):
    register("dal", "albench_dal.factories:dal", "discriminative active learning on the "
             "penultimate embeddings (Gissin & Shalev-Shwartz 2019)")
    register("dal-raw", "albench_dal.factories:dal_raw", "DAL on the flattened normalised inputs")
    register("dal-ae", "albench_dal.factories:dal_ae", "DAL on autoencoder codes of the pool")
    register("dal-stochastic", "albench_dal.factories:dal_stochastic", "DAL on embeddings, "
             "sampling proportionally to exp(P(unlabelled) / temperature)")
    register("dal-study", "albench_dal.factories:dal_study", "DAL on embeddings exactly as the "
             "study's code: fresh 10x subsample per sub-batch, scored alone; the study's "
             "discriminator recipe")
    register("dal-raw-study", "albench_dal.factories:dal_raw_study",
             "the study's DAL on the inputs / 255")
    register("dal-ae-study", "albench_dal.factories:dal_ae_study", "the study's DAL on its "
             "convolutional autoencoder's 7x7x4 codes")
    register("dal-stochastic-study", "albench_dal.factories:dal_stochastic_study", "the study's "
             "stochastic DAL on embeddings (sampling from each sub-batch's subsample, T = 0.01)")
