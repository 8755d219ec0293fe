// The body the `csv` and `xlsx` targets share (included by both; not a target itself).

use libfuzzer_sys::fuzz_target;
use naskah_domain::beneficiaries::reader::{Table, column_name, limits};

fuzz_target!(|data: &[u8]| {
    let Ok(table) = Table::open(data) else { return };
    let _ = table.layout.describe();
    assert!(table.headers.len() <= limits::COLUMNS, "{} headers", table.headers.len());
    let _ = table.column(&["nik", "nama"]);
    let mut records = table.records();
    while let Some((line, record)) = records.next_record() {
        if let Ok(record) = record {
            assert!(record.len() <= limits::COLUMNS, "row {line} has {} cells", record.len());
            for index in 0..record.len() {
                let _ = column_name(index);
            }
        }
    }
});
