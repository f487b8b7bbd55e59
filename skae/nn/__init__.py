"""The torch side of skae: modules, losses, input noise and penalties.

Nothing here imports scikit-learn; the estimators compose these parts.

- :mod:`.modules`: MLPs and the mirrored autoencoder module;
- :mod:`.conv`: the convolutional autoencoder module;
- :mod:`.sequence`: the temporal-convolution and recurrent encoder-decoders for sequences,
  and their masked loss;
- :mod:`.generative`: the variational and adversarial modules;
- :mod:`.binary`: the binary code layer of the hashing autoencoder;
- :mod:`.heads`: an encoder with a supervised head, and its objective;
- :mod:`.members`: networks of one shape stacked to train side by side;
- :mod:`.noise`: input corruption applied in training only;
- :mod:`.losses`: reconstruction losses and training objectives;
- :mod:`.penalties`: loss terms on the code or the network (``skae.penalties``).
"""
