"""The LSTM's inputs read from feature rows: covariates and static embedding indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
from testkit.histories import mixed_history

from feature_store import definitions as d
from feature_store.build import build_features
from ml.models.sequence_inputs import covariate_matrix, embedding_indices, static_vocabulary
from ml.schema import UNIQUE_ID


def test_codes_seen_at_fit_get_rows_from_one_and_unseen_codes_share_row_zero():
    table = build_features(mixed_history())
    vocab = static_vocabulary(table)
    codes = embedding_indices(table, vocab)
    assert codes.shape == (table[UNIQUE_ID].nunique(), 4) and (codes >= 1).all()
    stranger = table.assign(**{d.ITEM_CODE: 12345})
    unseen = embedding_indices(stranger, vocab)
    assert (unseen[:, 1] == 0).all() and (unseen[:, [0, 2, 3]] == codes[:, [0, 2, 3]]).all()


def test_covariates_encode_the_day_and_price_of_each_row():
    table = build_features(mixed_history())
    cov = covariate_matrix(table)
    assert cov.shape == (len(table), 7 + 4 + 3 + 8) and np.isfinite(cov).all()
    np.testing.assert_array_equal(cov[:, :7].argmax(axis=1), table[d.DAY_OF_WEEK])
    on_sale = table["sell_price"].notna()
    np.testing.assert_array_equal(cov[:, 13], on_sale.to_numpy(dtype="float32"))
    promo = pd.Series(cov[:, 14]).astype(int)
    assert promo.equals(table[d.ON_PROMOTION].reset_index(drop=True).astype(int))
