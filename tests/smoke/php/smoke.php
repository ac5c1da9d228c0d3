<?php
// Smoke test for a WASI build of PHP: arrays, closures, objects, strings, dates,
// JSON, PCRE, random numbers and a file resource read from the preopened folder.
$numbers = [5, 3, 9, 1];
sort($numbers);
echo implode(',', $numbers), "\n";
$double = function (int $n): int { return $n * 2; };
echo implode(',', array_map($double, $numbers)), "\n";
echo array_sum(array_filter($numbers, fn($n) => $n > 2)), "\n";

class Greeter {
    private $name;
    public function __construct(string $name) { $this->name = $name; }
    public function greet(): string { return sprintf("Hello, %s!", $this->name); }
}
echo (new Greeter('wasi'))->greet(), "\n";
echo strtoupper(str_replace('world', 'wasm', 'hello world')), "\n";
echo date('Y-m-d H:i', 86400 * 365), "\n";
echo json_encode(['a' => 1, 'b' => [true, null]]), "\n";
echo preg_match('/(\d+)-(\d+)/', 'range 10-20', $m) ? $m[1] + $m[2] : 'no match', "\n";
$r = random_int(1, 6);
echo ($r >= 1 && $r <= 6) ? "random ok" : "random bad", "\n";
$handle = fopen(__DIR__ . '/data.txt', 'r');
echo trim(fgets($handle)), "\n";
fclose($handle);
unset($handle);
echo "done\n";
