-- Placeholder on the tui branch only, so that 0009 is the ninth migration
-- (store.Version counts migrations). The lead drops it when the real
-- 0007 lands.
SELECT 1;
