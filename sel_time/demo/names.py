"""Plausible, diverse London names, combined at random (no real person is meant), and the
e-mail and code fragments made from them."""
from __future__ import annotations

import re
import unicodedata

FIRST_NAMES = (
    "Amara", "Adebayo", "Chidi", "Ngozi", "Kwame", "Ama", "Kofi", "Abena", "Folake", "Tunde",
    "Oluwaseun", "Yetunde", "Emeka", "Chiamaka", "Femi", "Efua", "Priya", "Rajesh", "Anjali",
    "Sanjay", "Deepa", "Arjun", "Kavita", "Nikhil", "Farah", "Imran", "Ayesha", "Bilal",
    "Nusrat", "Tahmina", "Rahim", "Shazia", "Kiran", "Harpreet", "Gurpreet", "Thivya",
    "Sivakumar", "Mei", "Wei", "Hannah", "Oliver", "Charlotte", "James", "Emily", "Thomas",
    "Sophie", "Daniel", "Rebecca", "Matthew", "Lucy", "George", "Grace", "Samuel", "Eleanor",
    "William", "Jessica", "Harry", "Chloe", "Joseph", "Megan", "Ruth", "David", "Sarah",
    "Michael", "Catherine", "Patrick", "Siobhan", "Ciaran", "Aoife", "Niamh", "Rhys", "Cerys",
    "Iain", "Morag", "Marta", "Piotr", "Agnieszka", "Tomasz", "Ioana", "Andrei", "Elena",
    "Mehmet", "Elif", "Ayse", "Hodan", "Abdi", "Fartun", "Ana", "Joao", "Ines", "Carlos",
    "Lucia", "Sofia", "Nikos", "Eleni", "Maria", "Maricel", "Jocelyn", "Rowena", "Camila",
    "Mateo", "Tariq", "Yasmin", "Nadia", "Leila", "Omar", "Zara", "Marcus", "Jermaine",
    "Tanisha", "Shanice", "Delroy", "Claudette", "Winston", "Beverley", "Trevor", "Hyacinth",
    "Duc", "Linh", "Yuki", "Kenji", "Rosa", "Isaac", "Miriam", "Naomi", "Reuben", "Esther",
)
LAST_NAMES = (
    "Okafor", "Adeyemi", "Mensah", "Boateng", "Owusu", "Asante", "Okonkwo", "Oyelaran",
    "Nwosu", "Eze", "Osei", "Adebayo", "Patel", "Shah", "Sharma", "Gupta", "Kaur", "Singh",
    "Khan", "Ahmed", "Hussain", "Rahman", "Begum", "Chowdhury", "Iqbal", "Sivarajah",
    "Nadarajah", "Perera", "Fernando", "Chen", "Wong", "Li", "Zhang", "Nguyen", "Tran", "Smith",
    "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans", "Thomas",
    "Roberts", "Walker", "Wright", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
    "Wood", "Harris", "Clarke", "Jackson", "Turner", "Hill", "Moore", "Cooper", "Ward",
    "Morris", "King", "Baker", "Murphy", "O'Brien", "O'Connor", "Kelly", "Byrne", "Walsh",
    "MacDonald", "Campbell", "Stewart", "Lewis", "Morgan", "Kowalski", "Nowak", "Wiśniewska",
    "Popescu", "Ionescu", "Yilmaz", "Demir", "Kaya", "Ali", "Mohamed", "Farah", "Warsame",
    "Silva", "Santos", "Pereira", "Costa", "Rodriguez", "Garcia", "Papadopoulos", "Georgiou",
    "Reyes", "Cruz", "Bautista", "Francis", "Grant", "Bailey", "Robinson", "Brown-Mensah",
    "Sato", "Tanaka", "Levy", "Cohen", "Achterberg", "Lindqvist", "Okoro", "Danso",
)


def email_part(text: str) -> str:
    """``text`` as the lowercase ASCII letters and hyphens of an e-mail address."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z-]", "", ascii_text.lower())


def slug(text: str) -> str:
    """``text`` as lowercase ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
