-- Decrees have their own series, and their own number format so that a decree never
-- carries the same number as a letter; and no number is ever recorded twice.
ALTER TABLE departments ADD COLUMN number_format_keputusan TEXT NOT NULL DEFAULT '{kode_klasifikasi}/{urut:04}/Kep/{unit}/{tahun}';
CREATE UNIQUE INDEX register_number ON register (department_id, number);
