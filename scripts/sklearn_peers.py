#!/usr/bin/env python3
"""scikit-learn peers for `constellate eval`: a measuring stick, never a dependency of the app.

Usage: sklearn_peers.py DIR. DIR holds params.json ({"k": K, "seeds": [..], "spaces": [..]})
and one <space>.npy (float32, n x d) per feature space. Writes DIR/labels.json:
{"<method>.<space>": [[label per row] per seed]}, one run for deterministic methods.
The CLI scores the labels with its own metrics, so both sides are scored alike.
"""
import json
import os
import sys
import warnings

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

warnings.filterwarnings("ignore")


def methods(k, n):
    # (name, seeded, fit_predict(x, seed))
    return [
        ("kmeans", True, lambda x, s: KMeans(k, init="k-means++", n_init=10, random_state=s).fit_predict(x)),
        ("spectral", True, lambda x, s: SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=min(10, n - 1), random_state=s).fit_predict(x)),
        ("ward", False, lambda x, s: AgglomerativeClustering(k, linkage="ward").fit_predict(x)),
        ("average-cosine", False, lambda x, s: AgglomerativeClustering(k, linkage="average", metric="cosine").fit_predict(x)),
        ("gmm-diag-pca64", True, lambda x, s: GaussianMixture(k, covariance_type="diag", random_state=s).fit_predict(
            PCA(min(64, x.shape[0], x.shape[1]), random_state=s).fit_transform(x))),
    ]


def main():
    folder = sys.argv[1]
    params = json.load(open(os.path.join(folder, "params.json")))
    k, seeds = params["k"], params["seeds"]
    out = {}
    for space in params["spaces"]:
        x = np.load(os.path.join(folder, space + ".npy"))
        for name, seeded, fit in methods(k, x.shape[0]):
            out[name + "." + space] = [fit(x, s).tolist() for s in (seeds if seeded else seeds[:1])]
    json.dump(out, open(os.path.join(folder, "labels.json"), "w"))


if __name__ == "__main__":
    main()
