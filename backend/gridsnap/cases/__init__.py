"""Cases: the seven-step closed loop (立案 → 派遣 → 处置 → 反馈 → 核查结案 → 评价) on each report."""
