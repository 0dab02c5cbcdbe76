"""A small office tree shared by the tests and the load tools:
HN > (STP, BD > (BD-KM, BD-DB))."""

SMALL_TREE = """code,name,parent_code,level
HN,Thành phố Hà Nội,,city
STP,Sở Tư pháp,HN,department
BD,UBND quận Ba Đình,HN,district
BD-KM,UBND phường Kim Mã,BD,commune
BD-DB,UBND phường Điện Biên,BD,commune
"""
