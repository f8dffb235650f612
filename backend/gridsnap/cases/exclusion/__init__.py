"""不合理诉求 and 申诉: a unit asks for a hotline request to be excluded from the three rates
(unreasonable, duplicate, outside government duty), or appeals its rated result; the centre
approves (剔除 / 核减) or refuses — a sub-process of the case loop, the trail kept."""
