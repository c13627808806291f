"""See inside a trained network: what each unit does over a text, what the model expects next,
and which tokens a prediction rests on (``rnncli inspect``)."""
