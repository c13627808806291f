"""The CRF output layer: log Z, the likelihood, the decoded path and the marginals equal brute-force
enumeration over every tag sequence, rows of different lengths in one padded batch alike."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from rnncli.models.crf import CRF
from rnncli.tasks.tagging.inference import crf_marginals, crf_viterbi


@torch.no_grad()
def brute(crf: CRF, emissions: torch.Tensor, length: int) -> tuple[float, list[int], dict]:
    scores = {}
    for path in itertools.product(range(emissions.shape[1]), repeat=length):
        s = crf.start[path[0]] + crf.end[path[-1]] + sum(emissions[i, t] for i, t in enumerate(path))
        s = s + sum(crf.transitions[a, b] for a, b in zip(path, path[1:]))
        scores[path] = float(s)
    best = max(scores, key=scores.__getitem__)
    return float(torch.logsumexp(torch.tensor(list(scores.values())), 0)), list(best), scores


@pytest.mark.parametrize("seed", range(5))
def test_partition_and_decoding_equal_enumeration(seed):
    torch.manual_seed(seed)
    tags, lengths = 3, [4, 1, 3]
    crf = CRF(tags)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    emissions = torch.randn(len(lengths), max(lengths), tags)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    log_z = crf.log_partition(emissions, mask).detach()
    params = [p.detach().double().numpy() for p in (crf.start, crf.transitions, crf.end)]
    paths = [crf_viterbi(emissions[row, :n].double().numpy(), *params) for row, n in enumerate(lengths)]
    gold = torch.tensor([p + [1] * (max(lengths) - len(p)) for p in paths])  # padding past each row's end
    likelihood = crf.log_likelihood(emissions, gold, mask).detach()
    for row, length in enumerate(lengths):
        expected_z, expected_path, scores = brute(crf, emissions[row], length)
        assert float(log_z[row]) == pytest.approx(expected_z, abs=1e-4)
        assert paths[row] == expected_path
        assert float(likelihood[row]) == pytest.approx(scores[tuple(expected_path)] - expected_z, abs=1e-4)
        marginals = crf_marginals(emissions[row, :length].double().numpy(), *params)
        for position in range(length):
            for tag in range(tags):
                expected = sum(math.exp(s - expected_z) for path, s in scores.items() if path[position] == tag)
                assert marginals[position, tag] == pytest.approx(expected, abs=1e-5)


def test_training_the_transitions_learns_a_forbidden_move():
    """Tag 1 never follows tag 0 in the data: after training on emissions that say nothing, the
    decoded paths avoid it."""
    torch.manual_seed(0)
    crf = CRF(2)
    optimizer = torch.optim.Adam(crf.parameters(), lr=0.1)
    gold = torch.tensor([[0, 0, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0]])
    mask = torch.ones_like(gold, dtype=torch.bool)
    for _ in range(100):
        optimizer.zero_grad()
        (-crf.log_likelihood(torch.zeros(3, 4, 2), gold, mask).mean()).backward()
        optimizer.step()
    assert crf.transitions[0, 1] < crf.transitions[0, 0] - 1
    params = [p.detach().double().numpy() for p in (crf.start, crf.transitions, crf.end)]
    assert 1 not in crf_viterbi(torch.zeros(4, 2).double().numpy(), *params)[1:]
