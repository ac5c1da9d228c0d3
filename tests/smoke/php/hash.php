<?php
// hash: a few algorithms and HMAC on known inputs.
echo hash('sha256', 'abc'), "\n";
echo hash('crc32b', 'The quick brown fox jumped over the lazy dog.'), "\n";
echo hash('md5', ''), "\n";
echo hash_hmac('sha1', 'data', 'key'), "\n";
echo in_array('sha3-256', hash_algos(), true) ? "sha3 ok" : "no sha3", "\n";
