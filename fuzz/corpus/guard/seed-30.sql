SELECT 1 --1
, sleep(1)