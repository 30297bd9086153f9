package snapshot

// WriteVersion1 makes wr write format version 1, for the tests that a
// reader still reads it.
func WriteVersion1(wr *Writer) { wr.v1 = true }
