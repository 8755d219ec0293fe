-- One draft, one letter per village: a batch holds what its letters share (the
-- template, the part of the data typed once, the scope), each letter knows its batch
-- and the recipient it is addressed to.
CREATE TABLE letter_batches (
    id            BIGSERIAL PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    template_id   TEXT NOT NULL,
    subject       TEXT NOT NULL,
    -- '' for every village of the regency, else the kecamatan's region code.
    scope         TEXT NOT NULL DEFAULT '',
    scope_label   TEXT NOT NULL,
    -- The fields typed once (JSON), before each village's own fields are added.
    shared_data   TEXT NOT NULL,
    -- Where the attachment rows came from (the uploaded file's name) and how many.
    source_name   TEXT NOT NULL DEFAULT '',
    source_rows   BIGINT NOT NULL DEFAULT 0,
    rows_used     BIGINT NOT NULL DEFAULT 0,
    created_by    BIGINT NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX letter_batches_department ON letter_batches (department_id, created_at);

ALTER TABLE letters ADD COLUMN batch_id BIGINT REFERENCES letter_batches (id);
ALTER TABLE letters ADD COLUMN recipient_id BIGINT REFERENCES recipients (id);
CREATE INDEX letters_batch ON letters (batch_id);
