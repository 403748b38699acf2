"""How well a model speaks: objective metrics on held-out recordings, intelligibility heard by a recogniser,
sentences without recordings, and the page that shows them."""
