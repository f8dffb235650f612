"""The 12345 catalogue: the request classes (诉求分类, as the hotline classifies calls, three
levels) and the dispatch catalogue (派单目录 / 职责清单: which unit takes which class of matter
in which area); imported from CSV or XLSX, searched by the call-taker."""
