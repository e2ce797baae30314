-- Accounts by phone (API.md, "Phone login"): an account made by a first
-- login with an SMS code has a verified phone, no email and no password until
-- its owner sets them. A phone typed at registration stays unverified and
-- logs nobody in. Verified phones are unique; typed ones are not (two people
-- may share a household number until one of them proves it is theirs).

-- +goose Up

ALTER TABLE users
    ADD COLUMN phone_verified BOOLEAN NOT NULL DEFAULT false,
    ALTER COLUMN email DROP NOT NULL,
    ALTER COLUMN password_hash DROP NOT NULL,
    -- An account made by phone starts with the name "" (API.md).
    DROP CONSTRAINT users_full_name_check,
    ADD CONSTRAINT users_full_name_check CHECK (
        full_name = '' OR char_length(btrim(full_name)) BETWEEN 1 AND 200),
    -- "no password" is NULL, never ''.
    DROP CONSTRAINT users_password_hash_check,
    ADD CONSTRAINT users_password_hash_check CHECK (password_hash IS NULL OR password_hash <> ''),
    ADD CONSTRAINT users_phone_verified_check CHECK (NOT phone_verified OR phone IS NOT NULL),
    -- Someone must be able to log in: by email or by phone.
    ADD CONSTRAINT users_identity_check CHECK (email IS NOT NULL OR phone_verified);

-- Phone login looks accounts up by verified phone; mapped to
-- user.ErrPhoneTaken.
CREATE UNIQUE INDEX users_verified_phone_key ON users (phone) WHERE phone_verified;

-- +goose Down

-- Refuses (NOT NULL violations) while accounts without an email or a
-- password exist: rolling back would have to delete them, with their orders.
DROP INDEX users_verified_phone_key;
ALTER TABLE users
    DROP CONSTRAINT users_identity_check,
    DROP CONSTRAINT users_phone_verified_check,
    DROP CONSTRAINT users_password_hash_check,
    ADD CONSTRAINT users_password_hash_check CHECK (password_hash <> ''),
    DROP CONSTRAINT users_full_name_check,
    ADD CONSTRAINT users_full_name_check CHECK (char_length(btrim(full_name)) BETWEEN 1 AND 200),
    ALTER COLUMN password_hash SET NOT NULL,
    ALTER COLUMN email SET NOT NULL,
    DROP COLUMN phone_verified;
