"""Sequences of actions: what an entity does next.

:mod:`~soc_anomaly.sequences.vocabulary` maps each raw event to a discrete
action; :mod:`~soc_anomaly.sequences.ngram` is the per-entity n-gram model with
back-off (numpy only); :mod:`~soc_anomaly.sequences.lstm` runs a DeepLog-style
LSTM trained by :mod:`~soc_anomaly.sequences.lstm_train` (PyTorch, the
``[deep]`` extra); :mod:`~soc_anomaly.sequences.state` is what a stream carries
of each entity's last actions.
"""
