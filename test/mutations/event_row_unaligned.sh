# A result row written from an event row's bytes puts a value with a
# 4-byte varlena header where the previous value ended, without the int
# alignment heap_form_minimal_tuple gives it: values read from the result
# are garbled.
catches="regress:27_event_rows"
mutate() {
    sub src/event_row.c "			else
			{
				off = pad_to(data, off, m->align[k]);
				n = VARSIZE(p);" "			else
			{
				n = VARSIZE(p);"
}
