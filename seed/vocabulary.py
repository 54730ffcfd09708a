"""Words the seed builds course titles and descriptions from (and Locust searches for)."""

TOPICS = (
    "Python", "JavaScript", "TypeScript", "Rust", "Go", "Kotlin", "SQL", "PostgreSQL", "Docker",
    "Kubernetes", "Machine Learning", "Deep Learning", "Data Science", "Statistics", "Linear Algebra",
    "Calculus", "Web Design", "React", "Django", "FastAPI", "Cloud Computing", "AWS", "Serverless",
    "Cybersecurity", "Networking", "Photography", "Guitar", "Piano", "Spanish", "French", "Japanese",
    "Public Speaking", "Project Management", "Accounting", "Marketing", "Copywriting", "Drawing",
    "Watercolor", "Cooking", "Nutrition", "Yoga", "Chess", "Game Development", "Unity", "Blender",
    "Excel", "Product Design", "Negotiation", "Leadership", "Algorithms",
)
LEVEL_WORDS = {
    "beginner": ("Introduction to", "Getting Started with", "Foundations of", "Learn"),
    "intermediate": ("Practical", "Hands-on", "Applied", "Building with"),
    "advanced": ("Advanced", "Mastering", "Expert", "Deep Dive into"),
}
SUFFIXES = ("", "in 30 Days", "for Professionals", "from Scratch", "Bootcamp", "Workshop", "Essentials", "Masterclass")
DESCRIPTION_PHRASES = (
    "step-by-step projects", "real-world examples", "quizzes after every module", "a final capstone",
    "downloadable resources", "lifetime access", "practical exercises", "expert interviews",
    "weekly challenges", "code reviews", "a friendly community",
)
# Search terms for the load test: each occurs in titles or descriptions.
SEARCH_TERMS = (*(topic.lower() for topic in TOPICS), "projects", "masterclass", "scratch", "hands-on")
REVIEW_COMMENTS = (
    "Great course!", "Very clear explanations.", "Too fast for me.", "Loved the projects.",
    "Could use more examples.", "Exactly what I needed.", "Solid introduction.", None, None,
)
# The seeded categories (slug: name and the topics whose courses it holds); every topic is in one.
CATEGORIES = {
    "programming": ("Programming", ("Python", "JavaScript", "TypeScript", "Rust", "Go", "Kotlin", "Algorithms")),
    "data-ai": ("Data & AI", ("SQL", "PostgreSQL", "Machine Learning", "Deep Learning", "Data Science", "Statistics")),
    "cloud-devops": ("Cloud & DevOps", ("Docker", "Kubernetes", "Cloud Computing", "AWS", "Serverless")),
    "security-networking": ("Security & Networking", ("Cybersecurity", "Networking")),
    "mathematics": ("Mathematics", ("Linear Algebra", "Calculus")),
    "web-development": ("Web Development", ("Web Design", "React", "Django", "FastAPI")),
    "music": ("Music", ("Guitar", "Piano")),
    "languages": ("Languages", ("Spanish", "French", "Japanese")),
    "business": ("Business", ("Public Speaking", "Project Management", "Accounting", "Marketing", "Copywriting",
                              "Excel", "Negotiation", "Leadership")),
    "art-design": ("Art & Design", ("Photography", "Drawing", "Watercolor", "Blender", "Product Design")),
    "health-lifestyle": ("Health & Lifestyle", ("Cooking", "Nutrition", "Yoga", "Chess")),
    "game-development": ("Game Development", ("Game Development", "Unity")),
}
