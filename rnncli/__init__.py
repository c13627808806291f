"""rnncli: sequence learning with recurrent networks, from the command line."""

__version__ = "0.1.0"
