"""The walkthroughs: the library on real photos (:mod:`.library`), the governed
flow step by step (:mod:`.governed`), both run by ``facegate demo``; and the
service's demo deployment (:mod:`.service`), set up by ``facegate serve --demo``."""
