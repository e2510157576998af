# Finding an event row's values, a value with a 4-byte varlena header is
# looked for where the previous value ended, not after the padding that
# aligns it: the result gets the padding as the start of the value.
catches="regress:27_event_rows"
mutate() {
    sub src/event_row.c "				off = att_align_pointer(off, m->ev_align[i], -1, sdata + off);" "				off = off;"
}
