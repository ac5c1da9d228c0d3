<?php
// bcmath: arbitrary precision beyond PHP_INT_MAX (4 bytes on wasm32).
echo bcadd('12345678901234567890', '98765432109876543210'), "\n";
echo bcmul('123456789.123', '987654321.9', 4), "\n";
echo bcdiv('1', '3', 10), "\n";
echo bcpow('2', '100'), "\n";
echo bcsqrt('2', 20), "\n";
echo bcmod('100000000000000000007', '97'), "\n";
echo bccomp('0.001', '0.0010', 4), "\n";
