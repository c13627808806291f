#!/usr/bin/env bash
# Regenerates every figure of docs/lecture.md (and the runs behind them) from the repository root:
#   bash docs/make_figures.sh
# About 30 minutes on a 2-core CPU. Results print to stdout as they come.
set -euo pipefail
cd "$(dirname "$0")/.."
F=docs/figures
R=runs/lecture
mkdir -p "$F" "$R"

# 1. Vanishing gradients, and the LSTM's cell-state highway
rnncli gradients --model rnn,lstm,gru --length 100 --plot "$F/gradients.png" --json > "$R/gradients.json"
rnncli gradients --model rnn,lstm --forget-bias 1 --length 100 --plot "$F/gradients-forget-bias.png" > /dev/null

# 2. Long-range memory: the label is a word 50 steps back
rnncli sample-data long-range --distance 50 --lines 10000 -o "$R/long50.tsv"
rnncli sample-data long-range --distance 50 --lines 500 --seed 1 -o "$R/long50-test.tsv"
for model in rnn lstm; do
  rnncli train "$R/long50.tsv" -o "$R/long-$model" --force --task classify --model "$model" \
    --unidirectional --pool last --level word --dropout 0 --precision fp32 --time-budget 120 -q
  echo "long-range, distance 50, $model: $(rnncli evaluate -c "$R/long-$model" "$R/long50-test.tsv" --json)"
done
rnncli plot "$R/long-rnn" "$R/long-lstm" -o "$F/long-range.png"

# 3. Word order: a bag of words (with bigrams: one-step features) against an LSTM
for model in bow lstm; do
  rnncli train sample_data/word-order.tsv -o "$R/order-$model" --force --task classify --model "$model" \
    --level word --time-budget 40 -q
  echo "word order, $model: $(rnncli evaluate -c "$R/order-$model" sample_data/word-order-test.tsv --json)"
done
rnncli plot "$R/order-bow" "$R/order-lstm" -o "$F/word-order.png"

# 4. Gradient clipping: an Elman RNN language model under plain SGD at a high learning rate
for clip in 0 1; do
  rnncli train sample_data/english.txt -o "$R/clip-$clip" --force --model rnn --level char --optimizer sgd \
    --lr 3 --clip "$clip" --max-steps 400 --eval-every 40 --seed 1 -q || true
done
rnncli plot "$R/clip-0" "$R/clip-1" -o "$F/clipping.png"

# 5. n-gram against RNN: Kneser-Ney counts beside an LSTM of the same vocabulary (validation)
rnncli train sample_data/english.txt --valid sample_data/english-valid.txt -o "$R/en-ngram" --force \
  --model ngram --order 5 --level char -q
rnncli train sample_data/english.txt --valid sample_data/english-valid.txt -o "$R/en-lstm" --force \
  --level char --time-budget 60 -q
for run in en-ngram en-lstm; do
  echo "english valid, $run: $(rnncli evaluate -c "$R/$run" sample_data/english-valid.txt --json --cache none)"
done
T=../shared/data/tinyshakespeare
if [ -f "$T/train.txt" ]; then
  rnncli train "$T/train.txt" --valid "$T/valid.txt" -o "$R/ts-ngram" --force --model ngram --order 5 --level char -q
  rnncli train "$T/train.txt" --valid "$T/valid.txt" -o "$R/ts-lstm" --force --level char --time-budget 120 -q
  for run in ts-ngram ts-lstm; do
    echo "tinyshakespeare valid, $run: $(rnncli evaluate -c "$R/$run" "$T/valid.txt" --json --cache none)"
  done
fi

# 7. Tagging: the HMM (its Markov state: the two tags before) against the BiLSTM tagger (the whole sentence)
U=../shared/data/ud_english_lines
if [ -f "$U/train.conllu" ]; then
  rnncli train "$U/train.conllu" --valid "$U/dev.conllu" -o "$R/tag-hmm" --force --model hmm -q
  rnncli train "$U/train.conllu" --valid "$U/dev.conllu" -o "$R/tag-bilstm" --force --time-budget 300 -q
  for run in tag-hmm tag-bilstm; do
    echo "UD English LinES dev, $run: $(rnncli evaluate -c "$R/$run" "$U/dev.conllu" --json | python -c \
      'import json, sys; r = json.load(sys.stdin); print(r["accuracy"], r["unseen_accuracy"])')"
    rnncli tag -c "$R/$run" "$U/dev.conllu" > "$R/$run.dev.conllu"
  done
  python docs/tag_contrast.py "$U/dev.conllu" "$R/tag-hmm.dev.conllu" "$R/tag-bilstm.dev.conllu" --names=hmm,bilstm
fi

# 8. Translation: attention against the fixed vector, BLEU by source length, and an alignment
M=../shared/data/multi30k
if [ -f "$M/train.de" ]; then
  paste "$M/train.de" "$M/train.en" > "$R/mt-train.tsv"
  paste "$M/val.de" "$M/val.en" > "$R/mt-val.tsv"
  paste "$M/test_2016_flickr.de" "$M/test_2016_flickr.en" > "$R/mt-test.tsv"
  for attention in dot none; do
    rnncli train "$R/mt-train.tsv" --valid "$R/mt-val.tsv" -o "$R/mt-$attention" --force --attention "$attention" \
      --time-budget 300 -q
  done
  python docs/attention_by_length.py "$R/mt-test.tsv" "$R/mt-dot" "$R/mt-none" --plot="$F/attention-by-length.png"
  echo 'Ein kleines Mädchen in einem rosa Kleid klettert eine Treppe hinauf .' |
    rnncli translate -c "$R/mt-dot" --beam 5 --plot "$F/alignment.png"
fi

# 9. The convolutional network (Kim 2014) beside the bag of words and the LSTM, the same budget each
python bench/classify.py --lecture-only

# 10. Inside a network: character LSTMs of 120 s on tinyshakespeare and on War and Peace, their units ranked
#     by how well they follow quotations and the position in the line; each page opened in headless
#     Chromium and photographed (docs/figures/inspect.png, inspect-quotes.png)
python bench/inspect_page.py
