"""Files and keys, the bottom layer: new files written whole (atomic replace, exclusive
create), locks and the leftovers of interrupted runs (:mod:`.fileio`, :mod:`.staging`), and
the key material kept in files — pseudonymisation secrets and signing keys (:mod:`.secrets`,
:mod:`.keys`), and key material recognised in text (:mod:`.material`). Imports nothing of
ketenx but its errors and the kx1 token shapes (a test checks the direction)."""
