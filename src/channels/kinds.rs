//! What a lead's message is, and how a non-text message reads to the turn.

/// A message's kind, as stored in `messages.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A tapped button, quick reply, list item or postback: its title is the text.
    Choice,
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    Location,
    Contacts,
    /// A shared post, reel or story, or a story mention.
    Share,
    /// An emoji reaction: stored, never answered.
    Reaction,
    /// A platform notice (number changed): stored, never answered.
    System,
    /// Anything else the platform could not or Setter does not read.
    Unsupported,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Choice => "choice",
            Kind::Image => "image",
            Kind::Audio => "audio",
            Kind::Video => "video",
            Kind::Document => "document",
            Kind::Sticker => "sticker",
            Kind::Location => "location",
            Kind::Contacts => "contacts",
            Kind::Share => "share",
            Kind::Reaction => "reaction",
            Kind::System => "system",
            Kind::Unsupported => "unsupported",
        }
    }

    /// A platform's media/attachment type name as a kind.
    pub fn from_media(name: &str) -> Kind {
        match name {
            "image" => Kind::Image,
            "audio" | "voice" => Kind::Audio,
            "video" | "ig_reel" | "reel" => Kind::Video,
            "document" | "file" => Kind::Document,
            "sticker" => Kind::Sticker,
            "location" => Kind::Location,
            "contacts" => Kind::Contacts,
            "share" | "ig_post" | "story_mention" | "story" | "template" | "fallback" => {
                Kind::Share
            }
            _ => Kind::Unsupported,
        }
    }

    /// What the turn reads for a message of this kind without words: the
    /// writer then answers in words ("I can only read text here…") instead
    /// of the bot going silent or pretending it saw the picture.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Text | Kind::Choice => "",
            Kind::Image => "[the lead sent a photo without text]",
            Kind::Audio => "[the lead sent a voice message; Setter can only read text]",
            Kind::Video => "[the lead sent a video without text]",
            Kind::Document => "[the lead sent a file]",
            Kind::Sticker => "[the lead sent a sticker]",
            Kind::Location => "[the lead shared a location]",
            Kind::Contacts => "[the lead shared a contact card]",
            Kind::Share => "[the lead shared a post]",
            Kind::Reaction => "[the lead reacted]",
            Kind::System => "[platform notice]",
            Kind::Unsupported => "[the lead sent a message type Setter cannot read]",
        }
    }
}
