-- The delivery log: every signed letter's addressees and copies, each through one
-- channel, with its status and times. E-mail rows are also the outbox: the sender takes
-- the queued ones whose next attempt is due, so nothing is lost while the mail server
-- is down.
CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,
    department_id   BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    letter_id       BIGINT NOT NULL REFERENCES letters (id) ON DELETE CASCADE,
    recipient_id    BIGINT REFERENCES recipients (id),
    -- kepada | tembusan
    role            TEXT NOT NULL,
    -- The recipient as the letter names them.
    name            TEXT NOT NULL,
    -- email | hand | courier | export
    channel         TEXT NOT NULL,
    -- The e-mail address, the courier's receipt number or the other system's name.
    address         TEXT NOT NULL DEFAULT '',
    -- queued | sent | delivered | failed | acknowledged
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the one-time receipt token (the token itself is only in the message).
    receipt_hash    TEXT,
    receiver_name   TEXT NOT NULL DEFAULT '',
    queued_at       BIGINT NOT NULL,
    sent_at         BIGINT,
    delivered_at    BIGINT,
    acknowledged_at BIGINT,
    failed_at       BIGINT,
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_letter ON deliveries (letter_id);
CREATE INDEX deliveries_outbox ON deliveries (channel, status, next_attempt_at);
CREATE UNIQUE INDEX deliveries_receipt ON deliveries (receipt_hash);

-- Every change of a delivery: when, to what, by whom, why.
CREATE TABLE delivery_events (
    id          BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    status      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id, at);
