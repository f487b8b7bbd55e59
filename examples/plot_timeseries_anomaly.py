"""
Anomaly scores over time in one long series
===========================================

:class:`skae.TimeSeriesOutlierDetector` cuts a series into sliding windows,
trains a :class:`skae.SequenceAutoEncoder` to reconstruct the windows of a
normal stretch, and scores every timestamp of a new stretch by the
reconstruction error of the windows that cover it. ``score_samples`` is
higher for more normal timestamps, as in scikit-learn's outlier detectors.

The series is a synthetic heartbeat: a beat every 60 to 70 steps, each a
sharp spike between two smaller waves, with noise. One beat of the test
stretch is abnormal, its spike weak and wide, and that stretch is labelled.
The UCR anomaly archive scores a detector by one rule, used here too: the
single most anomalous timestamp must fall within 100 points of the labelled
region.
"""

# %%
# A normal training stretch of 2,000 steps, and a test stretch of 3,000 with
# one abnormal beat.
import matplotlib.pyplot as plt
import numpy as np

from skae import TimeSeriesOutlierDetector

rng = np.random.RandomState(0)


def heartbeat(n, rng, abnormal_beat=None):
    """A beat every 60-70 steps; beat ``abnormal_beat`` has a weak, wide spike."""
    t = np.arange(n)
    series = 0.05 * rng.normal(size=n)
    onsets = np.cumsum(rng.randint(60, 71, size=n // 60))
    labels = np.zeros(n, dtype=bool)
    for k, onset in enumerate(onsets[onsets < n]):
        spike_height, spike_width = (0.4, 6.0) if k == abnormal_beat else (1.0, 1.5)
        series += 0.25 * np.exp(-(((t - onset + 15) / 4) ** 2))  # a small wave before
        series += spike_height * np.exp(-(((t - onset) / spike_width) ** 2))
        series += 0.35 * np.exp(-(((t - onset - 20) / 6) ** 2))  # a wider one after
        if k == abnormal_beat:
            labels[onset - 20 : onset + 30] = True
    return series, labels


train, _ = heartbeat(2000, rng)
test, labels = heartbeat(3000, rng, abnormal_beat=30)

# %%
# Fit on the normal stretch. The window size is found automatically (the
# period of the beats, from the autocorrelation); a stride of 4 trains on
# every fourth window.
detector = TimeSeriesOutlierDetector(stride=4, random_state=0).fit(train)
scores = detector.score_samples(test)
worst = int(np.argmin(scores))
region = np.flatnonzero(labels)
hit = region.min() - 100 <= worst <= region.max() + 100
print(f"window_size_ = {detector.window_size_}")
print(
    f"most anomalous timestamp {worst}; labelled {region.min()}-{region.max()}: "
    f"{'within' if hit else 'not within'} 100 points"
)

# %%
# The series and the outlier score (minus ``score_samples``) over time, the
# labelled region shaded.
fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True)
top.plot(test, lw=0.6, color="0.3")
top.set_ylabel("series")
bottom.plot(-scores, color="C3", lw=1)
bottom.set_ylabel("outlier score")
bottom.set_xlabel("time step")
for ax in (top, bottom):
    ax.axvspan(region.min(), region.max(), color="C1", alpha=0.3, label="labelled anomaly")
top.legend(loc="upper right", fontsize=8)
fig.tight_layout()
fig.savefig("timeseries_anomaly.png", dpi=100)
