<?php
// calendar: Julian day numbers, month lengths, Easter.
$jd = gregoriantojd(12, 1, 2026);
echo $jd, ' ', jdtogregorian($jd), ' ', jddayofweek($jd, 1), "\n";
echo cal_days_in_month(CAL_GREGORIAN, 2, 2024), ' ', cal_days_in_month(CAL_GREGORIAN, 2, 2100), "\n";
echo jdtojulian($jd), ' ', jdmonthname($jd, CAL_MONTH_GREGORIAN_LONG), "\n";
echo easter_days(2025), ' ', date('Y-m-d', easter_date(2025)), "\n";
echo jdtojewish(gregoriantojd(10, 3, 2024)), "\n";
