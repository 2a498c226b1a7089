"""Registers the built-in models; the networks (and torch) load from
:mod:`albench.builtin.networks` when one is first built."""

from albench import hookimpl


@hookimpl
def albench_register_models(register):
    register("mlp", "albench.builtin.networks:MLP", "two hidden layers of 256 with dropout 0.3 "
             "(any input; MC dropout: yes)")
    register("lenet", "albench.builtin.networks:LeNet", "the DAL study's MNIST LeNet (images; "
             "variant='study' for its valid convolutions and Keras init; MC dropout: yes)")
    register("vgg16", "albench.builtin.networks:VGG16", "the DAL study's CIFAR VGG-16 with "
             "batch norm and dropout (images >= 32x32; variant='study' for Keras's batch norm "
             "and init; train with l2_kernels 5e-4; MC dropout: yes)")
    register("resnet18", "albench.builtin.networks:ResNet18", "ResNet-18, CIFAR variant: 3x3 "
             "stem, no max pool (images; no dropout, so MC dropout: no)")
